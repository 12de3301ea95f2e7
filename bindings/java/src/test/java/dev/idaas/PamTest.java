package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@SuppressWarnings("deprecation")
class PamTest {
    static Emulator em;
    static IdaasClient client;
    static PamClient pam;
    /** With a user-bound token (token exchange): what the 3LO operations need. */
    static PamClient userPam;
    static final String AUD = "https://api.partner.example";

    @BeforeAll
    static void start() throws Exception {
        em = Emulator.get();
        client = em.client();
        pam = client.pamClient();
        try (CredentialProvider user = CredentialProvider.fromCredential(client.exchangeToken(client.getBearerToken()))) {
            userPam = client.pamClient(user, null);
        }
    }

    @AfterAll
    static void stop() {
        pam.close();
        userPam.close();
        client.close();
    }

    @AfterEach
    void clear() throws Exception {
        em.clearFaults();
    }

    @Test
    void apiKeys() throws Exception {
        assertEquals("sk-EXAMPLE0123456789abcdef", pam.getApiKey("openai_prod_key").orElseThrow());
        assertTrue(pam.getApiKey("partner_oauth_client").isEmpty(), "no API key in an OAuth-client credential");
        IdaasServerException e = assertThrows(IdaasServerException.class, () -> pam.getApiKey("no_such_credential"));
        assertEquals(ErrorCode.CLIENT_ERROR, e.errorCode());
        assertEquals(404, e.httpStatus());
        assertNotNull(e.serverCode());
        assertEquals(ErrorCode.NULL_ARGUMENT,
                assertThrows(IdaasInvalidArgumentException.class, () -> pam.getApiKey(null)).errorCode());
        assertEquals(ErrorCode.INVALID_ARGUMENT,
                assertThrows(IdaasInvalidArgumentException.class, () -> pam.getApiKey(" ")).errorCode());
        assertEquals("sk-EXAMPLE0123456789abcdef", pam.getApiKeyAsync("openai_prod_key").get(30, TimeUnit.SECONDS).orElseThrow());

        em.addFault("devapi:ObtainCredential=status/500:10");
        assertEquals(500, assertThrows(IdaasServerException.class, () -> pam.getApiKey("openai_prod_key")).httpStatus());
        em.clearFaults();
        em.addFault("devapi:ObtainCredential=status/403:1");
        assertThrows(IdaasAuthException.class, () -> pam.getApiKey("openai_prod_key"));
        em.clearFaults();

        pam.invalidateApiKey("openai_prod_key"); // no cache: a no-op
        pam.invalidateAllApiKeys();
    }

    @Test
    void apiKeyCache() throws Exception {
        try (PamClient cached = client.pamClient(PamOptions.defaults().apiKeyCache(Duration.ofMinutes(10), null, null, 16))) {
            assertEquals("sk-EXAMPLE0123456789abcdef", cached.getApiKey("openai_prod_key").orElseThrow());
            em.addFault("devapi:ObtainCredential=status/404:10");
            assertEquals("sk-EXAMPLE0123456789abcdef", cached.getApiKey("openai_prod_key").orElseThrow(),
                    "served from the cache");
            cached.invalidateApiKey("openai_prod_key");
            assertThrows(IdaasServerException.class, () -> cached.getApiKey("openai_prod_key"));
            em.clearFaults();
            cached.invalidateAllApiKeys();
        }
        java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.Executor counting = r -> {
            ran.incrementAndGet();
            new Thread(r).start();
        };
        try (PamClient cached = client.pamClient(PamOptions.defaults().apiKeyCache().executor(counting))) {
            assertTrue(cached.getApiKey("openai_prod_key").isPresent());
            assertTrue(cached.getApiKeyAsync("openai_prod_key").get(30, TimeUnit.SECONDS).isPresent());
            assertEquals(1, ran.get(), "the PAM client's own executor");
        }
        assertThrows(IdaasInvalidArgumentException.class,
                () -> client.pamClient(PamOptions.defaults().apiKeyCache(Duration.ZERO, null, null, null)));
        // a configuration without developerApiEndpoint
        String plain = em.configJson.replaceAll("\"developerApiEndpoint\":\"[^\"]*\",?", "");
        try (IdaasClient c = Emulator.client(plain)) {
            assertThrows(IdaasConfigException.class, c::pamClient);
        }
        // a provider with a token the server rejects
        try (CredentialProvider bad = CredentialProvider.ofStatic("not-a-valid-token", 0);
             PamClient p = client.pamClient(bad, null)) {
            assertEquals(401, assertThrows(IdaasAuthException.class, () -> p.getApiKey("openai_prod_key")).httpStatus());
        }
    }

    @Test
    void oauthTokens() throws Exception {
        assertFalse(pam.fetchOAuthToken("google_drive_reader", null).orElseThrow().isEmpty());
        assertTrue(pam.fetchOAuthToken("google_drive_reader", "https://www.googleapis.com/auth/drive.readonly").isPresent());
        assertTrue(pam.fetchOAuthTokenAsync("google_drive_reader", null).get(30, TimeUnit.SECONDS).isPresent());
        assertThrows(IdaasServerException.class, () -> pam.fetchOAuthToken("no_such_provider", null));

        OAuthAuthenticationTokenResponse r = pam.fetchOAuthTokenV2("google_drive_reader", AuthorizationFlow.M2M, null);
        assertNotNull(token(r));
        assertNotNull(r.credentialProviderId());
        assertNull(r.oauthAuthorizationSession());
        assertFalse(r.oauthAccessTokenContent().toString().contains(token(r)));
        r = pam.fetchOAuthTokenV2("google_drive_reader", AuthorizationFlow.M2M, OAuthTokenOptions.defaults()
                .scope("https://www.googleapis.com/auth/drive.readonly").forceAuthentication(true)
                .customParameters(Map.of("prompt", "consent")));
        assertNotNull(token(r));
        assertNotNull(token(pam.fetchOAuthTokenV2Async("google_drive_reader", AuthorizationFlow.M2M, null)
                .get(30, TimeUnit.SECONDS)));
        IdaasInvalidArgumentException flow = assertThrows(IdaasInvalidArgumentException.class,
                () -> pam.fetchOAuthTokenV2("google_drive_reader", "3lo", null));
        assertEquals("invalid_authorization_flow", flow.serverCode());
        IdaasServerException mismatch = assertThrows(IdaasServerException.class,
                () -> userPam.fetchOAuthTokenV2("google_drive_user", AuthorizationFlow.M2M,
                        OAuthTokenOptions.defaults().forceAuthentication(true)));
        assertEquals("authorization_flow_mismatch", mismatch.serverCode());

        // 3LO: a session, its state
        // without a user-bound token the server refuses 3LO
        IdaasAuthException notUser = assertThrows(IdaasAuthException.class, () -> pam.fetchOAuthTokenV2(
                "google_drive_user", AuthorizationFlow.USER_FEDERATION, null));
        assertEquals(403, notUser.httpStatus());
        r = userPam.fetchOAuthTokenV2("google_drive_user", AuthorizationFlow.USER_FEDERATION,
                OAuthTokenOptions.defaults().forceAuthentication(true));
        assertNull(token(r));
        OAuthAuthorizationSession s = r.oauthAuthorizationSession();
        assertNotNull(s.sessionUri());
        assertNotNull(s.authorizationUrl());
        OAuthAuthorizationSessionResponse st = userPam.getOAuthSession(s.sessionUri());
        assertEquals("pending", st.sessionStatus());
        assertEquals("pending", userPam.getOAuthSessionAsync(s.sessionUri()).get(30, TimeUnit.SECONDS).sessionStatus());
        IdaasServerException unknown = assertThrows(IdaasServerException.class,
                () -> userPam.getOAuthSession("urn:ietf:params:oauth:request_uri:nope"));
        assertEquals(404, unknown.httpStatus());
    }

    /** The access token of a fetch or poll result; null when the user must authorize first. */
    static String token(OAuthAuthenticationTokenResponse r) {
        return r.oauthAccessTokenContent() == null ? null : r.oauthAccessTokenContent().accessTokenValue();
    }

    static OAuthTokenOptions fast() {
        return OAuthTokenOptions.defaults().interval(Duration.ofMillis(50)).maxPollingRetries(40).forceAuthentication(true);
    }

    @Test
    void pollApproved() {
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<Thread> cbThread = new AtomicReference<>();
        OAuthAuthenticationTokenResponse r = userPam.pollOAuthToken("google_drive_user", fast(), url -> {
            calls.incrementAndGet();
            cbThread.set(Thread.currentThread());
            em.setSessionFromUrl(url, "completed");
        }, null);
        assertEquals(1, calls.get());
        assertSame(Thread.currentThread(), cbThread.get(), "on_url runs on the calling thread");
        assertNotNull(token(r));
        // a token at once: no callback
        calls.set(0);
        assertNotNull(token(userPam.pollOAuthToken("google_drive_reader", null, url -> calls.incrementAndGet(), null)));
        assertEquals(0, calls.get());
    }

    @Test
    void pollRefusedTimedOutAborted() {
        IdaasAuthException refused = assertThrows(IdaasAuthException.class,
                () -> userPam.pollOAuthToken("google_drive_user", fast(), url -> em.setSessionFromUrl(url, "failed"), null));
        assertEquals(ErrorCode.AUTH, refused.errorCode());
        IdaasTimeoutException out = assertThrows(IdaasTimeoutException.class, () -> userPam.pollOAuthToken(
                "google_drive_user", OAuthTokenOptions.defaults().interval(Duration.ofMillis(20)).maxPollingRetries(3)
                        .forceAuthentication(true), url -> {}, null));
        assertTrue(out.getMessage().contains("polling") || "polling_timeout".equals(out.serverCode()), out.toString());
        assertThrows(IdaasTimeoutException.class, () -> userPam.pollOAuthToken("google_drive_user",
                OAuthTokenOptions.defaults().interval(Duration.ofMillis(100)).timeout(Duration.ofMillis(250))
                        .forceAuthentication(true), url -> {}, null));
        // the consumer throws: the poll aborts, the exception is the cause
        IllegalStateException boom = new IllegalStateException("no browser");
        IdaasCancelledException c = assertThrows(IdaasCancelledException.class,
                () -> userPam.pollOAuthToken("google_drive_user", fast(), url -> { throw boom; }, null));
        assertSame(boom, c.getCause());
        assertThrows(IdaasInvalidArgumentException.class,
                () -> userPam.pollOAuthToken("x", null, null, null), "on_url is required");
        assertThrows(IdaasInvalidArgumentException.class, () -> userPam.pollOAuthToken("google_drive_user",
                OAuthTokenOptions.defaults().interval(Duration.ZERO), url -> {}, null));
    }

    @Test
    void pollCancelled() throws Exception {
        try (CancellationToken cancel = new CancellationToken()) {
            assertFalse(cancel.isCancelled());
            long t0 = System.nanoTime();
            IdaasCancelledException e = assertThrows(IdaasCancelledException.class, () -> userPam.pollOAuthToken(
                    "google_drive_user", OAuthTokenOptions.defaults().interval(Duration.ofSeconds(10)).forceAuthentication(true),
                    url -> CompletableFuture.runAsync(() -> {
                        sleep(300);
                        cancel.cancel();
                    }), cancel));
            assertEquals(ErrorCode.CANCELLED, e.errorCode());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "prompt");
            assertTrue(cancel.isCancelled());
            // already cancelled: nothing is sent
            assertThrows(IdaasCancelledException.class, () -> userPam.pollOAuthToken("google_drive_user", null, url -> {}, cancel));
        }
        // the async variant: cancelling the future cancels the poll
        CompletableFuture<String> seen = new CompletableFuture<>();
        CompletableFuture<OAuthAuthenticationTokenResponse> f = userPam.pollOAuthTokenAsync("google_drive_user",
                OAuthTokenOptions.defaults().interval(Duration.ofSeconds(10)).forceAuthentication(true), seen::complete);
        assertTrue(seen.get(30, TimeUnit.SECONDS).contains("session="));
        long t0 = System.nanoTime();
        assertTrue(f.cancel(true));
        assertTrue(f.isCancelled());
        // the executor thread comes back promptly: the pool is usable again right away
        assertNotNull(pam.getApiKeyAsync("openai_prod_key").get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
        // and the async variant completes normally when approved
        OAuthAuthenticationTokenResponse ok = userPam.pollOAuthTokenAsync("google_drive_user", fast(),
                url -> em.setSessionFromUrl(url, "completed")).get(30, TimeUnit.SECONDS);
        assertNotNull(token(ok));
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void jwtLifecycle() throws Exception {
        JwtTokenResponse g = pam.generateJwt("partner_jwt", "billing-agent", List.of(AUD), JwtOptions.defaults()
                .includeDerivedShortToken(true).expiration(Duration.ofMinutes(15))
                .customClaims(Map.of("tenant", "acme", "tier", 2, "tags", List.of("a", "b"))));
        String jwt = g.jwtContent().jwtValue();
        String dst = g.jwtContent().derivedShortToken();
        assertNotNull(jwt);
        assertNotNull(dst);
        assertNotNull(g.authenticationTokenId());
        assertNotNull(g.consumerId());
        assertNotNull(g.credentialProviderId()); // the provider id (atp_...), not its identifier
        assertFalse(g.toString().contains(jwt), "secrets hidden from toString");

        assertEquals(jwt, pam.obtainJwt(g.consumerId(), g.authenticationTokenId()).jwtValue());
        assertEquals(jwt, pam.obtainJwtAsync(g.consumerId(), g.authenticationTokenId()).get(30, TimeUnit.SECONDS).jwtValue());
        assertEquals(jwt, pam.obtainJwtByShortToken(dst).jwtValue());
        assertEquals(jwt, pam.obtainJwtByShortTokenAsync(dst).get(30, TimeUnit.SECONDS).jwtValue());

        assertTrue(pam.validateToken(jwt));
        assertTrue(pam.validateToken(dst));
        pam.revokeToken(jwt);
        assertFalse(pam.validateToken(jwt));
        pam.reinstateToken(jwt, "jwt");
        assertTrue(pam.validateToken(jwt, null));
        pam.revokeTokensByConsumer(g.consumerId(), "partner_jwt");
        assertFalse(pam.validateToken(jwt));
        pam.reinstateTokensByConsumer(g.consumerId(), "partner_jwt");
        assertTrue(pam.validateToken(jwt));
        assertFalse(pam.validateToken("garbage-token"));
        // async variants
        pam.revokeTokenAsync(jwt, null).get(30, TimeUnit.SECONDS);
        assertFalse(pam.validateTokenAsync(jwt, null).get(30, TimeUnit.SECONDS));
        pam.reinstateTokenAsync(jwt, null).get(30, TimeUnit.SECONDS);
        pam.revokeTokensByConsumerAsync(g.consumerId(), "partner_jwt").get(30, TimeUnit.SECONDS);
        pam.reinstateTokensByConsumerAsync(g.consumerId(), "partner_jwt").get(30, TimeUnit.SECONDS);
        assertTrue(pam.validateToken(jwt));

        // errors
        assertThrows(IdaasInvalidArgumentException.class, () -> pam.generateJwt("partner_jwt", "s", List.of("urn:cloud:idaas:x"), null));
        assertThrows(IdaasInvalidArgumentException.class, () -> pam.generateJwt("partner_jwt", "s", null, null));
        assertThrows(IdaasInvalidArgumentException.class, () -> pam.generateJwt("partner_jwt", "s", List.of("a"),
                JwtOptions.defaults().expiration(Duration.ZERO)));
        assertThrows(IdaasServerException.class, () -> pam.generateJwt("no_such_provider", "s", List.of("a"), null));
        assertThrows(IdaasServerException.class, () -> pam.obtainJwt(g.consumerId(), "atntkn_nope"));
        assertThrows(IdaasInvalidArgumentException.class, () -> pam.revokeToken(""));
        assertThrows(IdaasInvalidArgumentException.class, () -> pam.reinstateTokensByConsumer(g.consumerId(), " "));
        em.addFault("devapi:RevokeAuthenticationToken=status/502:1");
        assertEquals(502, assertThrows(IdaasServerException.class, () -> pam.revokeToken(jwt)).httpStatus());
        em.clearFaults();
        assertTrue(pam.validateToken(jwt));
        ExecutionException ee = assertThrows(ExecutionException.class,
                () -> pam.generateJwtAsync("no_such_provider", "s", List.of("a"), null).get(30, TimeUnit.SECONDS));
        assertInstanceOf(IdaasServerException.class, ee.getCause());
    }

    @Test
    void listingPagesIterableAndStream() throws Exception {
        JwtTokenResponse g = pam.generateJwt("partner_jwt", "list-agent", List.of(AUD), null);
        for (int i = 0; i < 4; i++) pam.generateJwtAsync("partner_jwt", "list-agent", List.of(AUD), null).get(30, TimeUnit.SECONDS);
        String consumer = g.consumerId();

        AuthenticationTokenPage first = pam.listTokens(consumer, "partner_jwt", ListTokensOptions.defaults().maxResults(2));
        assertEquals(2, first.entities().size());
        assertFalse(first.nextToken() == null || first.nextToken().isEmpty(), "another page follows");
        assertNotNull(first.totalCount());
        AuthenticationTokenPage second = pam.listTokensAsync(consumer, "partner_jwt",
                ListTokensOptions.defaults().maxResults(2).nextToken(first.nextToken())).get(30, TimeUnit.SECONDS);
        assertFalse(second.entities().isEmpty());
        assertNotEquals(first.entities().get(0).authenticationTokenId(), second.entities().get(0).authenticationTokenId());

        List<AuthenticationToken> all = new ArrayList<>();
        for (AuthenticationToken t : pam.listAllTokens(consumer, "partner_jwt", ListTokensOptions.defaults().maxResults(1))) {
            all.add(t);
        }
        long total = first.totalCount();
        assertEquals(total, all.size());
        assertEquals(total, all.stream().map(AuthenticationToken::authenticationTokenId).distinct().count());
        assertTrue(all.stream().allMatch(t -> consumer.equals(t.consumerId())));
        assertEquals(all.stream().map(AuthenticationToken::authenticationTokenId).collect(Collectors.toList()),
                pam.streamTokens(consumer, "partner_jwt", ListTokensOptions.defaults().maxResults(2))
                        .map(AuthenticationToken::authenticationTokenId).collect(Collectors.toList()));
        assertEquals(2, pam.streamTokens(consumer, "partner_jwt", ListTokensOptions.defaults().maxResults(1)).limit(2).count());
        // filters
        pam.revokeToken(g.jwtContent().jwtValue());
        assertTrue(pam.streamTokens(consumer, "partner_jwt", ListTokensOptions.defaults().revoked(false).expired(false))
                .noneMatch(t -> t.authenticationTokenId().equals(g.authenticationTokenId())));
        assertThrows(IdaasInvalidArgumentException.class,
                () -> pam.listTokens(consumer, "partner_jwt", ListTokensOptions.defaults().maxResults(-1)));
        assertThrows(IdaasInvalidArgumentException.class, () -> pam.listTokens(null, "partner_jwt", null));
    }
}
