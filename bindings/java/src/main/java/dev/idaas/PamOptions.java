package dev.idaas;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Options of a {@link PamClient}: the API-key cache (absent = every {@code getApiKey} asks the server)
 * and the executor of the {@code *Async} methods (default: the client's).
 */
public final class PamOptions {
    private Map<String, Object> apiKeyCache;
    private Executor executor;

    public static PamOptions defaults() {
        return new PamOptions();
    }

    /** Enables the API-key cache with the library's defaults (ttl 3600 s, grace 900 s, retry 5 s, 1024 entries). */
    public PamOptions apiKeyCache() {
        this.apiKeyCache = new LinkedHashMap<>();
        return this;
    }

    /**
     * Enables the API-key cache: keys are served from memory for {@code ttl}; a key younger than
     * ttl + {@code grace} is served while refreshes fail with a retryable error, retried every
     * {@code retryInterval}; at most {@code maxEntries} keys. Null arguments keep the defaults.
     */
    public PamOptions apiKeyCache(Duration ttl, Duration grace, Duration retryInterval, Integer maxEntries) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (ttl != null) m.put("ttlSecs", ttl.toSeconds());
        if (grace != null) m.put("graceSecs", grace.toSeconds());
        if (retryInterval != null) m.put("retryIntervalSecs", retryInterval.toSeconds());
        if (maxEntries != null) m.put("maxEntries", maxEntries);
        this.apiKeyCache = m;
        return this;
    }

    public PamOptions executor(Executor executor) {
        this.executor = executor;
        return this;
    }

    Executor executor() {
        return executor;
    }

    String toJson() {
        return apiKeyCache == null ? null : JsonCodec.write(Map.of("apiKeyCache", apiKeyCache));
    }
}
