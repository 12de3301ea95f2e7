package dev.idaas;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The PAM client ({@code idaas_pam}, IDaaS Developer API): API keys, OAuth tokens held by IDaaS,
 * JWT authentication tokens. Made by {@link IdaasClient#pamClient()}. Every operation blocks the
 * calling thread (network I/O) and has a {@code *Async} variant on the executor of
 * {@link PamOptions#executor} (default: the client's). Thread-safe; {@link AutoCloseable} with a
 * cleaner backstop.
 */
public final class PamClient implements AutoCloseable {
    private final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;
    private final Executor executor;

    PamClient(long ptr, Executor executor) {
        this.handle = new NativeHandle(ptr, Native::pamFree, "PamClient");
        this.cleanable = handle.register(this);
        this.executor = executor;
    }

    private static String text(byte[] b) {
        if (b == null) return null;
        String s = new String(b, StandardCharsets.UTF_8);
        Arrays.fill(b, (byte) 0);
        return s;
    }

    private interface Call<T> {
        T run(long pam);
    }

    private <T> T call(Call<T> c) {
        long p = handle.acquire();
        try {
            return c.run(p);
        } finally {
            handle.release();
        }
    }

    private <T> CompletableFuture<T> async(Supplier<T> s) {
        return CompletableFuture.supplyAsync(s, executor);
    }

    // ---- API keys ---------------------------------------------------------------------------------------

    /**
     * The API key of the credential {@code credentialIdentifier} ({@code ObtainCredential}); empty when
     * the credential has none (e.g. an OAuth-client credential). Served from the API-key cache when enabled.
     */
    public Optional<String> getApiKey(String credentialIdentifier) {
        return Optional.ofNullable(call(p -> text(Native.pamGetApiKey(p, credentialIdentifier))));
    }

    public CompletableFuture<Optional<String>> getApiKeyAsync(String credentialIdentifier) {
        return async(() -> getApiKey(credentialIdentifier));
    }

    /** Drops the cached API key of {@code credentialIdentifier} (a no-op without a cache). */
    public void invalidateApiKey(String credentialIdentifier) {
        Objects.requireNonNull(credentialIdentifier, "credentialIdentifier (use invalidateAllApiKeys)");
        call(p -> { Native.pamInvalidateApiKey(p, credentialIdentifier); return null; });
    }

    /** Drops every cached API key (a no-op without a cache). */
    public void invalidateAllApiKeys() {
        call(p -> { Native.pamInvalidateApiKey(p, null); return null; });
    }

    // ---- OAuth --------------------------------------------------------------------------------------------

    /**
     * The v1 {@code fetch_oauth_authentication_token}: the access token of the credential provider with
     * {@code scope} (nullable: the provider's configured scopes); empty when user authorization is needed.
     *
     * @deprecated use {@link #fetchOAuthTokenV2(String, AuthorizationFlow, OAuthTokenOptions)}
     */
    @Deprecated
    public Optional<String> fetchOAuthToken(String credentialProviderIdentifier, String scope) {
        return Optional.ofNullable(call(p -> text(Native.pamFetchOAuthToken(p, credentialProviderIdentifier, scope))));
    }

    /** @deprecated use {@link #fetchOAuthTokenV2Async} */
    @Deprecated
    public CompletableFuture<Optional<String>> fetchOAuthTokenAsync(String credentialProviderIdentifier, String scope) {
        return async(() -> fetchOAuthToken(credentialProviderIdentifier, scope));
    }

    /**
     * {@code FetchOAuthAuthenticationToken} (2LO and 3LO): either the token or a 3LO session to show the
     * user. With {@link AuthorizationFlow#M2M}, a provider that needs the user fails with server code
     * {@code authorization_flow_mismatch}.
     */
    public OAuthAuthenticationTokenResponse fetchOAuthTokenV2(String credentialProviderIdentifier, AuthorizationFlow flow,
                                                OAuthTokenOptions options) {
        return fetchOAuthTokenV2(credentialProviderIdentifier, flow == null ? null : flow.wireName(), options);
    }

    /** As above with the flow's wire name ({@code "m2m"}, {@code "user_federation"}). */
    public OAuthAuthenticationTokenResponse fetchOAuthTokenV2(String credentialProviderIdentifier, String authorizationFlow,
                                                OAuthTokenOptions options) {
        String opts = options == null ? null : options.toJson(false);
        return JsonCodec.result(call(
                p -> Native.pamFetchOAuthTokenV2(p, credentialProviderIdentifier, authorizationFlow, opts)),
                OAuthAuthenticationTokenResponse.class);
    }

    public CompletableFuture<OAuthAuthenticationTokenResponse> fetchOAuthTokenV2Async(String credentialProviderIdentifier,
                                                                        AuthorizationFlow flow,
                                                                        OAuthTokenOptions options) {
        return async(() -> fetchOAuthTokenV2(credentialProviderIdentifier, flow, options));
    }

    /** {@code GetOAuthAuthorizationSession}: the state of a 3LO session ({@code sessionUri}). */
    public OAuthAuthorizationSessionResponse getOAuthSession(String sessionUri) {
        return JsonCodec.result(call(p -> Native.pamGetOAuthSession(p, sessionUri)),
                OAuthAuthorizationSessionResponse.class);
    }

    public CompletableFuture<OAuthAuthorizationSessionResponse> getOAuthSessionAsync(String sessionUri) {
        return async(() -> getOAuthSession(sessionUri));
    }

    /**
     * A user-delegated OAuth token, walking the user through authorization if needed: a token available
     * at once is returned without calling {@code onUrl}; otherwise {@code onUrl} receives the
     * authorization URL (once, on this thread; throwing from it aborts with
     * {@link IdaasCancelledException} carrying it as the cause) and the session is polled until it
     * completes ({@link IdaasAuthException} when it fails or expires, {@link IdaasTimeoutException}
     * when out of polls or time) or {@code cancel} (nullable) is cancelled. Blocks up to 180 s.
     */
    public OAuthAuthenticationTokenResponse pollOAuthToken(String credentialProviderIdentifier, OAuthTokenOptions options,
                                             Consumer<String> onUrl, CancellationToken cancel) {
        String opts = options == null ? null : options.toJson(true);
        long c = cancel == null ? 0 : cancel.handle.acquire();
        Callbacks.URL_FAILURE.remove();
        try {
            return JsonCodec.result(call(
                    p -> Native.pamPollOAuthToken(p, credentialProviderIdentifier, opts, onUrl, c)),
                    OAuthAuthenticationTokenResponse.class);
        } catch (IdaasCancelledException e) {
            Throwable cause = Callbacks.URL_FAILURE.get();
            if (cause != null) e.initCause(cause);
            throw e;
        } finally {
            Callbacks.URL_FAILURE.remove();
            if (cancel != null) cancel.handle.release();
        }
    }

    /**
     * {@link #pollOAuthToken} on the executor; cancelling the returned future
     * ({@code future.cancel(true)}) cancels the poll promptly.
     */
    public CompletableFuture<OAuthAuthenticationTokenResponse> pollOAuthTokenAsync(String credentialProviderIdentifier,
                                                                     OAuthTokenOptions options,
                                                                     Consumer<String> onUrl) {
        CancellationToken token = new CancellationToken();
        CompletableFuture<OAuthAuthenticationTokenResponse> f = new CompletableFuture<>();
        f.whenComplete((r, e) -> {
            if (f.isCancelled()) token.cancel();
        });
        try {
            executor.execute(() -> {
                try {
                    f.complete(pollOAuthToken(credentialProviderIdentifier, options, onUrl, token));
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                } finally {
                    token.close();
                }
            });
        } catch (RuntimeException e) {
            token.close();
            f.completeExceptionally(e);
        }
        return f;
    }

    // ---- JWT ------------------------------------------------------------------------------------------------

    /**
     * {@code GenerateJwtAuthenticationToken}: a JWT from the JWT credential provider for {@code subject}
     * and {@code audiences} (none may start with {@code urn:cloud:idaas}).
     */
    public JwtTokenResponse generateJwt(String credentialProviderIdentifier, String subject, List<String> audiences,
                                        JwtOptions options) {
        String aud = audiences == null ? null : JsonCodec.write(audiences);
        String opts = options == null ? null : options.toJson();
        return JsonCodec.result(call(
                p -> Native.pamGenerateJwt(p, credentialProviderIdentifier, subject, aud, opts)), JwtTokenResponse.class);
    }

    public CompletableFuture<JwtTokenResponse> generateJwtAsync(String credentialProviderIdentifier, String subject,
                                                                List<String> audiences, JwtOptions options) {
        return async(() -> generateJwt(credentialProviderIdentifier, subject, audiences, options));
    }

    /** {@code ObtainJwtAuthenticationToken}: the JWT of an existing authentication token of {@code consumerId}. */
    public JwtContent obtainJwt(String consumerId, String authenticationTokenId) {
        return JsonCodec.result(call(p -> Native.pamObtainJwt(p, consumerId, authenticationTokenId)), JwtContent.class);
    }

    public CompletableFuture<JwtContent> obtainJwtAsync(String consumerId, String authenticationTokenId) {
        return async(() -> obtainJwt(consumerId, authenticationTokenId));
    }

    /** {@code ObtainJwtAuthenticationTokenByDerivedShortToken}: the JWT behind a derived short token. */
    public JwtContent obtainJwtByShortToken(String derivedShortToken) {
        return JsonCodec.result(call(p -> Native.pamObtainJwtByShortToken(p, derivedShortToken)), JwtContent.class);
    }

    public CompletableFuture<JwtContent> obtainJwtByShortTokenAsync(String derivedShortToken) {
        return async(() -> obtainJwtByShortToken(derivedShortToken));
    }

    // ---- listing ----------------------------------------------------------------------------------------------

    /**
     * {@code ListAuthenticationTokens}: ONE page (pass its {@code nextToken} to
     * {@link ListTokensOptions#nextToken} for the next; null or empty on the last page).
     */
    public AuthenticationTokenPage listTokens(String consumerId, String credentialProviderIdentifier,
                                              ListTokensOptions options) {
        String opts = options == null ? null : options.toJson();
        return JsonCodec.result(call(
                p -> Native.pamListTokens(p, consumerId, credentialProviderIdentifier, opts)), AuthenticationTokenPage.class);
    }

    public CompletableFuture<AuthenticationTokenPage> listTokensAsync(String consumerId,
                                                                      String credentialProviderIdentifier,
                                                                      ListTokensOptions options) {
        return async(() -> listTokens(consumerId, credentialProviderIdentifier, options));
    }

    /**
     * Every authentication token of {@code consumerId}, over all pages, fetched lazily (one request per
     * page, when the iteration reaches it; each {@code iterator()} starts again from the first page).
     * {@code options} gives the filters and page size; its {@code nextToken} is the starting page.
     */
    public Iterable<AuthenticationToken> listAllTokens(String consumerId, String credentialProviderIdentifier,
                                                       ListTokensOptions options) {
        ListTokensOptions base = options == null ? new ListTokensOptions() : options;
        return () -> new Iterator<>() {
            private AuthenticationTokenPage page = listTokens(consumerId, credentialProviderIdentifier, base);
            private int i;

            @Override
            public boolean hasNext() {
                while (i >= page.entities().size()) {
                    String next = page.nextToken();
                    if (next == null || next.isEmpty()) return false; // absent or empty: the last page
                    page = listTokens(consumerId, credentialProviderIdentifier, base.copyWithNextToken(next));
                    i = 0;
                }
                return true;
            }

            @Override
            public AuthenticationToken next() {
                if (!hasNext()) throw new NoSuchElementException();
                return page.entities().get(i++);
            }
        };
    }

    /** {@link #listAllTokens} as a sequential, lazily paged stream. */
    public Stream<AuthenticationToken> streamTokens(String consumerId, String credentialProviderIdentifier,
                                                    ListTokensOptions options) {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(
                listAllTokens(consumerId, credentialProviderIdentifier, options).iterator(),
                Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    // ---- validate / revoke / reinstate ------------------------------------------------------------------------

    /** {@code ValidateAuthenticationToken}: true when {@code token} (a JWT or derived short token) is active. */
    public boolean validateToken(String token) {
        return validateToken(token, null);
    }

    /** As above with a token type hint (nullable). */
    public boolean validateToken(String token, String tokenTypeHint) {
        return call(p -> Native.pamValidateToken(p, token, tokenTypeHint));
    }

    public CompletableFuture<Boolean> validateTokenAsync(String token, String tokenTypeHint) {
        return async(() -> validateToken(token, tokenTypeHint));
    }

    /** {@code RevokeAuthenticationToken} (sent once, not retried). */
    public void revokeToken(String token) {
        revokeToken(token, null);
    }

    public void revokeToken(String token, String tokenTypeHint) {
        call(p -> { Native.pamRevokeOrReinstate(p, 0, token, tokenTypeHint); return null; });
    }

    public CompletableFuture<Void> revokeTokenAsync(String token, String tokenTypeHint) {
        return async(() -> { revokeToken(token, tokenTypeHint); return null; });
    }

    /** {@code ReinstateAuthenticationToken}: undoes a revoke. */
    public void reinstateToken(String token) {
        reinstateToken(token, null);
    }

    public void reinstateToken(String token, String tokenTypeHint) {
        call(p -> { Native.pamRevokeOrReinstate(p, 1, token, tokenTypeHint); return null; });
    }

    public CompletableFuture<Void> reinstateTokenAsync(String token, String tokenTypeHint) {
        return async(() -> { reinstateToken(token, tokenTypeHint); return null; });
    }

    /** {@code RevokeAuthenticationTokenByConsumer}: every token of {@code consumerId} under the provider. */
    public void revokeTokensByConsumer(String consumerId, String credentialProviderIdentifier) {
        call(p -> { Native.pamRevokeOrReinstate(p, 2, consumerId, credentialProviderIdentifier); return null; });
    }

    public CompletableFuture<Void> revokeTokensByConsumerAsync(String consumerId, String credentialProviderIdentifier) {
        return async(() -> { revokeTokensByConsumer(consumerId, credentialProviderIdentifier); return null; });
    }

    /** {@code ReinstateAuthenticationTokenByConsumer}: undoes {@link #revokeTokensByConsumer}. */
    public void reinstateTokensByConsumer(String consumerId, String credentialProviderIdentifier) {
        call(p -> { Native.pamRevokeOrReinstate(p, 3, consumerId, credentialProviderIdentifier); return null; });
    }

    public CompletableFuture<Void> reinstateTokensByConsumerAsync(String consumerId,
                                                                  String credentialProviderIdentifier) {
        return async(() -> { reinstateTokensByConsumer(consumerId, credentialProviderIdentifier); return null; });
    }

    public boolean isClosed() {
        return handle.isClosed();
    }

    @Override
    public void close() {
        cleanable.clean();
    }
}
