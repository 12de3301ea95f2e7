package dev.idaas;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The IDaaS M2M client ({@code idaas_client}): one connection pool and one refresh-ahead token cache
 * per scope. Share one instance per configuration between threads. Close it when done (a
 * {@link Cleaner} frees it otherwise); {@code close()} waits for no one: the native client is freed
 * when the last in-flight call returns, and later calls throw {@link IllegalStateException}.
 * Providers, exchange providers and PAM clients made from it stay valid after it is closed.
 *
 * <pre>{@code
 * try (IdaasClient client = IdaasClient.fromFile(Path.of("client-config.json"))) {
 *     String bearer = client.getBearerToken();
 * }
 * }</pre>
 */
public final class IdaasClient implements AutoCloseable {
    /** The token-type URN of access tokens (token exchange). */
    public static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
    /** The token-type URN of JWTs. */
    public static final String JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
    /** The token-type URN of ID tokens. */
    public static final String ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";

    private static final int INITIAL_TOKEN_BUFFER = 2048;
    static final ThreadLocal<byte[]> TOKEN_BUFFER = ThreadLocal.withInitial(() -> new byte[INITIAL_TOKEN_BUFFER]);

    final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;
    private final Executor executor;

    private IdaasClient(long ptr, Executor executor) {
        this.handle = new NativeHandle(ptr, Native::clientFree, "IdaasClient");
        this.cleanable = handle.register(this);
        this.executor = executor != null ? executor : Idaas.defaultExecutor();
    }

    /** A client from the configuration file at {@code path} ({@code client-config.json}). No network I/O. */
    public static IdaasClient fromFile(Path path) {
        return builder().configFile(path).build();
    }

    /** A client from configuration JSON text. No network I/O. */
    public static IdaasClient fromJson(String json) {
        return builder().configJson(json).build();
    }

    /**
     * The {@code init()}-style factory: the file named by {@code CLOUD_IDAAS_CONFIG_PATH}, else
     * {@code ~/.cloud_idaas/client-config.json}.
     */
    public static IdaasClient fromDefaultLookup() {
        return builder().build();
    }

    public static Builder builder() {
        Idaas.load();
        return new Builder();
    }

    /** Client options; the configuration source defaults to the default lookup. */
    public static final class Builder {
        private Path file;
        private String json;
        private String userAgentSuffix;
        private Boolean asyncRefresh;
        private Boolean prefetch;
        private Executor executor;

        private Builder() {}

        /** Read the configuration from this file. */
        public Builder configFile(Path path) {
            this.file = Objects.requireNonNull(path, "path");
            this.json = null;
            return this;
        }

        /** Use this configuration JSON text. */
        public Builder configJson(String json) {
            this.json = Objects.requireNonNull(json, "json");
            this.file = null;
            return this;
        }

        /** Appended to the User-Agent. */
        public Builder userAgentSuffix(String suffix) {
            this.userAgentSuffix = suffix;
            return this;
        }

        /** Refresh tokens in the prefetch window on a background thread (default true: no caller waits for the network while the cached token is served); false refreshes in the first calling thread. */
        public Builder asyncRefresh(boolean on) {
            this.asyncRefresh = on;
            return this;
        }

        /** Fetch the default-scope token in {@link #build()} so credential and server errors surface there. */
        public Builder prefetch(boolean on) {
            this.prefetch = on;
            return this;
        }

        /** The executor of the {@code *Async} methods (default {@link Idaas#defaultExecutor()}). */
        public Builder executor(Executor executor) {
            this.executor = executor;
            return this;
        }

        String optionsJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("userAgentSuffix", userAgentSuffix == null ? "idaas-java/" + Idaas.version()
                                                              : "idaas-java/" + Idaas.version() + " " + userAgentSuffix);
            if (asyncRefresh != null) m.put("asyncRefresh", asyncRefresh);
            if (prefetch != null) m.put("prefetch", prefetch);
            return Json.write(m);
        }

        public IdaasClient build() {
            String opts = optionsJson();
            long ptr = file != null ? Native.clientNewFromFile(file.toString(), opts)
                     : json != null ? Native.clientNewFromJson(json, opts)
                     : Native.clientNewDefault(opts);
            return new IdaasClient(ptr, executor);
        }
    }

    /** The executor of the {@code *Async} methods. */
    public Executor executor() {
        return executor;
    }

    /** The bearer token of the configured default scope (cached; network I/O only when none is valid). */
    public String getBearerToken() {
        return getBearerToken(null);
    }

    /**
     * The bearer token for {@code scope} ({@code audience|scope}; null = the configured default scope),
     * served from the cache and refreshed ahead of expiry. For a hot non-default scope,
     * {@link #getProvider(String)} once and {@link CredentialProvider#getToken()} is faster (the scope
     * is not marshalled and parsed on every call).
     */
    public String getBearerToken(String scope) {
        long p = handle.acquire();
        try {
            byte[] buf = TOKEN_BUFFER.get();
            int n = Native.clientGetTokenInto(p, scope, buf);
            while (n < 0) { // bigger than the buffer: the token stays cached, retry with room for it
                buf = new byte[-n + 256];
                TOKEN_BUFFER.set(buf);
                n = Native.clientGetTokenInto(p, scope, buf);
            }
            String token = new String(buf, 0, n, StandardCharsets.UTF_8);
            Arrays.fill(buf, 0, n, (byte) 0);
            return token;
        } finally {
            handle.release();
        }
    }

    /** The benchmark's comparison path: idaas_client_get_token + NewStringUTF (ASCII tokens only). */
    String getBearerTokenNewStringUtf(String scope) {
        long p = handle.acquire();
        try {
            return Native.clientGetTokenNewStringUtf(p, scope);
        } finally {
            handle.release();
        }
    }

    /** {@link #getBearerToken()} on the client's executor. */
    public CompletableFuture<String> getBearerTokenAsync() {
        return async(() -> getBearerToken(null));
    }

    /** {@link #getBearerToken(String)} on the client's executor. */
    public CompletableFuture<String> getBearerTokenAsync(String scope) {
        return async(() -> getBearerToken(scope));
    }

    /** The credential provider of {@code scope} (null = default), sharing this client's cache. No I/O. */
    public CredentialProvider getProvider(String scope) {
        long p = handle.acquire();
        try {
            return new CredentialProvider(Native.clientGetProvider(p, scope));
        } finally {
            handle.release();
        }
    }

    /** A token-exchange provider for {@code scope} (null = default). No I/O. */
    public ExchangeProvider getExchangeProvider(String scope) {
        long p = handle.acquire();
        try {
            return new ExchangeProvider(Native.clientGetExchangeProvider(p, scope), executor);
        } finally {
            handle.release();
        }
    }

    /** RFC 8693 token exchange of an access token for an access token with the default scope. */
    public Credential exchangeToken(String subjectToken) {
        return exchangeToken(subjectToken, ACCESS_TOKEN_TYPE, null, null);
    }

    /**
     * RFC 8693 token exchange (one request, never cached).
     *
     * @param subjectTokenType   a token-type URN ({@link #ACCESS_TOKEN_TYPE}, {@link #JWT_TOKEN_TYPE} ...)
     * @param requestedTokenType nullable: the access-token URN
     * @param scope              nullable: the configured default scope
     */
    public Credential exchangeToken(String subjectToken, String subjectTokenType, String requestedTokenType,
                                    String scope) {
        long p = handle.acquire();
        try {
            return Credential.from(Json.parseResult(
                    Native.clientExchangeToken(p, subjectToken, subjectTokenType, requestedTokenType, scope)));
        } finally {
            handle.release();
        }
    }

    /** {@link #exchangeToken(String, String, String, String)} on the client's executor. */
    public CompletableFuture<Credential> exchangeTokenAsync(String subjectToken, String subjectTokenType,
                                                            String requestedTokenType, String scope) {
        return async(() -> exchangeToken(subjectToken, subjectTokenType, requestedTokenType, scope));
    }

    /** A PAM client (Developer API) using this client's tokens for scope {@code urn:cloud:idaas:pam|.all}. */
    public PamClient pamClient() {
        return pamClient(null, null);
    }

    /** A PAM client with options (API-key cache, executor). */
    public PamClient pamClient(PamOptions options) {
        return pamClient(null, options);
    }

    /**
     * A PAM client whose bearer tokens come from {@code provider} (e.g.
     * {@link CredentialProvider#fromCredential} over a token-exchange result, for the user-bound 3LO
     * operations). The provider may be closed afterwards.
     */
    public PamClient pamClient(CredentialProvider provider, PamOptions options) {
        String opts = options == null ? null : options.toJson();
        Executor ex = options != null && options.executor() != null ? options.executor() : executor;
        long p = handle.acquire();
        try {
            if (provider == null) return new PamClient(Native.pamNew(p, 0, opts), ex);
            long pp = provider.handle.acquire();
            try {
                return new PamClient(Native.pamNew(p, pp, opts), ex);
            } finally {
                provider.handle.release();
            }
        } finally {
            handle.release();
        }
    }

    /** Whether {@link #close()} was called (or the cleaner ran). */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the native client once in-flight calls have returned. Idempotent. */
    @Override
    public void close() {
        cleanable.clean();
    }

    <T> CompletableFuture<T> async(Supplier<T> s) {
        return CompletableFuture.supplyAsync(s, executor);
    }
}
