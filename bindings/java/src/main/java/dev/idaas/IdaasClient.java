package dev.idaas;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
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
 * <p>Made by {@link Idaas#init()} (the quick start) or, with options, by
 * {@link #builder(IdaasConfig)}:
 *
 * <pre>{@code
 * try (IdaasClient client = Idaas.init()) {
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

    /**
     * Client options over {@code config} ({@link IdaasConfig#load}, {@link IdaasConfig#fromJson}); the
     * client takes a copy of it, with its plugins and logger, when {@link Builder#build()} runs.
     */
    public static Builder builder(IdaasConfig config) {
        return new Builder(Objects.requireNonNull(config, "config"));
    }

    /** Client options ({@code options_json} of {@code idaas_client_new}) and the executor. */
    public static final class Builder {
        private final IdaasConfig config;
        private String userAgentSuffix;
        private Boolean asyncRefresh;
        private Boolean prefetch;
        private Executor executor;

        private Builder(IdaasConfig config) {
            this.config = config;
        }

        /** Appended to the User-Agent, after {@code idaas-java/<version>}. */
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
            // The binding identifies itself in the User-Agent, as the Go and Node bindings do.
            m.put("userAgentSuffix", userAgentSuffix == null ? "idaas-java/" + Idaas.version()
                                                              : "idaas-java/" + Idaas.version() + " " + userAgentSuffix);
            if (asyncRefresh != null) m.put("asyncRefresh", asyncRefresh);
            if (prefetch != null) m.put("prefetch", prefetch);
            return JsonCodec.write(m);
        }

        /**
         * Creates the client ({@code idaas_client_new}). No network I/O unless {@link #prefetch}.
         *
         * @throws IdaasConfigException e.g. a PLUGIN configuration whose plugin was not added
         */
        public IdaasClient build() {
            return new IdaasClient(config.newClient(optionsJson()), executor);
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
            return JsonCodec.result(
                    Native.clientExchangeToken(p, subjectToken, subjectTokenType, requestedTokenType, scope),
                    Credential.class);
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
