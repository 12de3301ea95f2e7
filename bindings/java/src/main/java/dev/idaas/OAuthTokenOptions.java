package dev.idaas;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options of {@link PamClient#fetchOAuthTokenV2} and {@link PamClient#pollOAuthToken} (the polling
 * fields apply to the poll only). Unset fields use the library's defaults.
 */
public final class OAuthTokenOptions {
    private String scope;
    private Boolean forceAuthentication;
    private Map<String, String> customParameters;
    private Integer maxPollingRetries;
    private Long intervalMs;
    private Long timeoutMs;

    public static OAuthTokenOptions defaults() {
        return new OAuthTokenOptions();
    }

    /** OAuth scopes, space-separated (at most 256 characters). */
    public OAuthTokenOptions scope(String scope) { this.scope = scope; return this; }

    /** Ignore an existing valid token. */
    public OAuthTokenOptions forceAuthentication(boolean on) { this.forceAuthentication = on; return this; }

    /** Extra parameters for the provider's authorization URL. */
    public OAuthTokenOptions customParameters(Map<String, String> params) { this.customParameters = params; return this; }

    /** Poll only: the number of session polls (default 60). */
    public OAuthTokenOptions maxPollingRetries(int n) { this.maxPollingRetries = n; return this; }

    /** Poll only: the pause between polls (default 3 s). */
    public OAuthTokenOptions interval(Duration d) { this.intervalMs = d.toMillis(); return this; }

    /** Poll only: the overall deadline of the polling phase (the hard limit stays 180 s). */
    public OAuthTokenOptions timeout(Duration d) { this.timeoutMs = d.toMillis(); return this; }

    String toJson(boolean poll) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (scope != null) m.put("scope", scope);
        if (forceAuthentication != null) m.put("forceAuthentication", forceAuthentication);
        if (customParameters != null) m.put("customParameters", customParameters);
        if (poll) {
            if (maxPollingRetries != null) m.put("maxPollingRetries", maxPollingRetries);
            if (intervalMs != null) m.put("intervalMs", intervalMs);
            if (timeoutMs != null) m.put("timeoutMs", timeoutMs);
        }
        return m.isEmpty() ? null : JsonCodec.write(m);
    }
}
