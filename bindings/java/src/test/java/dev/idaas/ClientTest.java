package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClientTest {
    static Emulator em;

    @BeforeAll
    static void start() throws Exception {
        em = Emulator.get();
    }

    @AfterEach
    void clear() throws Exception {
        em.clearFaults();
    }

    @Test
    void version() {
        assertTrue(Idaas.version().matches("\\d+\\.\\d+\\.\\d+.*"), Idaas.version());
        assertNotNull(Idaas.nativeLibraryLocation());
    }

    @Test
    void fromJsonTokensAreCachedPerScope() {
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            String t = c.getBearerToken();
            assertTrue(t.length() > 20);
            assertEquals(t, c.getBearerToken(), "cached");
            assertEquals(t, c.getBearerToken(null));
            String read = c.getBearerToken("api.example.com|read:file");
            assertNotEquals(t, read);
            assertEquals(read, c.getBearerToken("api.example.com|read:file"));
            assertEquals(t, c.getBearerTokenNewStringUtf(null));
        }
    }

    @Test
    void fromFileAndBuilderOptions() {
        try (IdaasClient c = IdaasClient.fromFile(em.configFile)) {
            assertTrue(c.getBearerToken().length() > 20);
        }
        try (IdaasClient c = IdaasClient.builder().configFile(em.configFile).userAgentSuffix("test/1")
                .asyncRefresh(true).prefetch(true).build()) {
            assertTrue(c.getBearerToken().length() > 20);
        }
    }

    @Test
    void fromDefaultLookupUsesCloudIdaasConfigPath() throws Exception {
        // surefire sets CLOUD_IDAAS_CONFIG_PATH=target/default-client-config.json
        String env = System.getenv("CLOUD_IDAAS_CONFIG_PATH");
        org.junit.jupiter.api.Assumptions.assumeTrue(env != null, "CLOUD_IDAAS_CONFIG_PATH not set (run through Maven)");
        Path p = Path.of(env);
        Files.writeString(p, em.configJson);
        try (IdaasClient c = IdaasClient.fromDefaultLookup()) {
            assertTrue(c.getBearerToken().length() > 20);
        } finally {
            Files.delete(p);
        }
        IdaasConfigException e = assertThrows(IdaasConfigException.class, IdaasClient::fromDefaultLookup);
        assertEquals(ErrorCode.CONFIG, e.code());
        assertEquals("LoadConfigFileFailed", e.serverCode());
    }

    @Test
    void configErrors() {
        IdaasConfigException e = assertThrows(IdaasConfigException.class,
                () -> IdaasClient.fromFile(Path.of("/nonexistent/idaas.json")));
        assertEquals("config", e.kind());
        assertEquals("LoadConfigFileFailed", e.serverCode());
        assertEquals(0, e.httpStatus());
        assertThrows(IdaasConfigException.class, () -> IdaasClient.fromJson("{}"));
        assertThrows(IdaasConfigException.class, () -> IdaasClient.fromJson("not json"));
        assertThrows(NullPointerException.class, () -> IdaasClient.fromJson(null));
    }

    @Test
    void scopeErrors() {
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            IdaasInvalidArgumentException bad = assertThrows(IdaasInvalidArgumentException.class,
                    () -> c.getBearerToken("bad scope"));
            assertEquals(ErrorCode.INVALID_ARGUMENT, bad.code());
            // refused by the server: a scope the client was not granted
            IdaasAuthException e = assertThrows(IdaasAuthException.class, () -> c.getBearerToken("api.example.com|admin"));
            assertEquals(ErrorCode.AUTH, e.code());
            assertTrue(e.httpStatus() >= 400 && e.httpStatus() < 500);
            assertNotNull(e.serverCode());
            assertEquals("auth", e.kind());
            assertFalse(e.isRetryable());
        }
    }

    @Test
    void stringMarshalling() {
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            // a lone surrogate is not valid UTF-8: the library reports it
            IdaasInvalidArgumentException e = assertThrows(IdaasInvalidArgumentException.class,
                    () -> c.getBearerToken("api.example.com|\uD800"));
            assertEquals(ErrorCode.INVALID_UTF8, e.code());
            // an embedded NUL would truncate the C string: rejected by the glue
            e = assertThrows(IdaasInvalidArgumentException.class, () -> c.getBearerToken("api.example.com|read\0x"));
            assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
            // non-ASCII passes through as UTF-8 (and is refused as a scope by the library)
            assertThrows(IdaasException.class, () -> c.getBearerToken("api.example.com|r\u00e9ad\uD83D\uDE00"));
            // a long argument (heap path of the glue)
            assertThrows(IdaasInvalidArgumentException.class, () -> c.getBearerToken("x".repeat(5000) + " y"));
        }
    }

    @Test
    void wrongSecretIs401WithRequestId() {
        try (IdaasClient c = IdaasClient.fromJson(em.configWithSecretVar("IDAAS_JAVA_TEST_WRONG_SECRET"))) {
            IdaasAuthException e = assertThrows(IdaasAuthException.class, c::getBearerToken);
            assertEquals(401, e.httpStatus());
            assertEquals("invalid_client", e.serverCode());
            assertNotNull(e.requestId());
            assertFalse(e.getMessage().contains("not-the-secret"));
        }
        IdaasAuthException e = assertThrows(IdaasAuthException.class, () -> IdaasClient.builder()
                .configJson(em.configWithSecretVar("IDAAS_JAVA_TEST_WRONG_SECRET")).prefetch(true).build());
        assertEquals(ErrorCode.AUTH, e.code());
    }

    @Test
    void unsetSecretVariableIsACredentialError() {
        try (IdaasClient c = IdaasClient.fromJson(em.configWithSecretVar("IDAAS_JAVA_TEST_UNSET_SECRET"))) {
            IdaasCredentialException e = assertThrows(IdaasCredentialException.class, c::getBearerToken);
            assertEquals(ErrorCode.CREDENTIAL, e.code());
            assertTrue(e.getMessage().contains("IDAAS_JAVA_TEST_UNSET_SECRET"), e.getMessage());
            assertInstanceOf(IdaasAuthException.class, e);
        }
    }

    @Test
    void serverFaultsMapToExceptions() throws Exception {
        em.addFault("token=status/503:10");
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            IdaasServerException e = assertThrows(IdaasServerException.class, c::getBearerToken);
            assertEquals(ErrorCode.SERVER_ERROR, e.code());
            assertEquals(503, e.httpStatus());
            assertEquals("server", e.kind());
            assertTrue(e.isRetryable());
        }
        em.clearFaults();
        em.addFault("token=non-json:10");
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            IdaasServerException e = assertThrows(IdaasServerException.class, c::getBearerToken);
            assertEquals(ErrorCode.UNEXPECTED_RESPONSE, e.code());
        }
        em.clearFaults();
        em.addFault("token=reset:10");
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            IdaasNetworkException e = assertThrows(IdaasNetworkException.class, c::getBearerToken);
            assertEquals(ErrorCode.TRANSPORT, e.code());
            assertTrue(e.isRetryable());
        }
        em.clearFaults();
        em.addFault("token=status/429:10");
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            // throttled: the library's classification (AUTH for a token-endpoint throttle), retryable by status
            IdaasException e = assertThrows(IdaasException.class, c::getBearerToken);
            assertEquals(429, e.httpStatus());
            assertTrue(e.isRetryable());
        }
    }

    @Test
    void connectionRefusedAndTimeout() throws Exception {
        String cfg = "{\"idaasInstanceId\":\"i\",\"clientId\":\"app_secret\","
                     + "\"issuer\":\"http://127.0.0.1:1/oauth2\",\"tokenEndpoint\":\"http://127.0.0.1:1/oauth2/token\","
                     + "\"authnConfiguration\":{\"authnMethod\":\"CLIENT_SECRET_POST\","
                     + "\"clientSecretEnvVarName\":\"IDAAS_CLIENT_SECRET\"}}";
        try (IdaasClient c = IdaasClient.fromJson(cfg)) {
            IdaasNetworkException e = assertThrows(IdaasNetworkException.class, c::getBearerToken);
            assertEquals(ErrorCode.TRANSPORT, e.code());
            assertEquals(0, e.httpStatus());
        }
        em.addFault("token=latency/4000:10");
        try (IdaasClient c = IdaasClient.fromJson(em.configWithHttp("\"readTimeout\":2000,"))) {
            IdaasTimeoutException e = assertThrows(IdaasTimeoutException.class, c::getBearerToken);
            assertEquals(ErrorCode.TIMEOUT, e.code());
            assertInstanceOf(IdaasNetworkException.class, e);
        }
    }

    @Test
    void tokenExchangeAndProviders() {
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            String subject = c.getBearerToken();
            Credential cred = c.exchangeToken(subject);
            assertTrue(cred.accessToken().length() > 20);
            assertTrue(cred.expiresAt() > 1_700_000_000L);
            assertTrue(cred.expiresIn() > 0);
            assertNotNull(cred.tokenType());
            assertFalse(cred.toString().contains(cred.accessToken()));
            Credential scoped = c.exchangeToken(subject, IdaasClient.ACCESS_TOKEN_TYPE, IdaasClient.ACCESS_TOKEN_TYPE,
                    "api.example.com|read:file");
            assertNotNull(scoped.accessToken());
            assertThrows(IdaasInvalidArgumentException.class,
                    () -> c.exchangeToken(subject, "", null, null));
            assertThrows(IdaasInvalidArgumentException.class,
                    () -> c.exchangeToken(null, IdaasClient.ACCESS_TOKEN_TYPE, null, null));
            IdaasException bad = assertThrows(IdaasException.class, () -> c.exchangeToken("not-a-token"));
            assertTrue(bad instanceof IdaasAuthException || bad instanceof IdaasServerException, bad.toString());
            assertTrue(bad.httpStatus() >= 400);

            // a static provider over the exchange result, for a PAM client
            try (CredentialProvider p = CredentialProvider.fromCredential(cred)) {
                assertEquals(cred.accessToken(), p.getToken());
                try (PamClient pam = c.pamClient(p, null)) {
                    assertEquals("sk-EXAMPLE0123456789abcdef", pam.getApiKey("openai_prod_key").orElseThrow());
                }
            }
            try (CredentialProvider p = CredentialProvider.ofStatic("static-token", 0)) {
                assertEquals("static-token", p.getToken());
            }
            assertThrows(IdaasInvalidArgumentException.class, () -> CredentialProvider.ofStatic(" ", 0));
            assertThrows(IdaasInvalidArgumentException.class, () -> CredentialProvider.fromCredentialJson("{"));

            // the client's cached provider stays valid after the client is closed
            CredentialProvider cached = c.getProvider(null);
            ExchangeProvider xp = c.getExchangeProvider("api.example.com|read:file");
            assertThrows(IdaasInvalidArgumentException.class, () -> c.getProvider("x y"));
            assertThrows(IdaasInvalidArgumentException.class, () -> c.getExchangeProvider("x y"));
            c.close();
            assertEquals(subject, cached.getToken());
            Credential x = xp.exchange(subject, IdaasClient.ACCESS_TOKEN_TYPE);
            assertNotNull(x.accessToken());
            assertNotNull(xp.exchangeAsync(subject, IdaasClient.ACCESS_TOKEN_TYPE, null).join().accessToken());
            cached.close();
            xp.close();
            assertThrows(IllegalStateException.class, cached::getToken);
        }
    }

    @Test
    void asyncOnCallerExecutor() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        ExecutorService ex = Executors.newFixedThreadPool(2, r -> {
            ran.incrementAndGet();
            Thread t = new Thread(r, "caller-pool");
            t.setDaemon(true);
            return t;
        });
        try (IdaasClient c = IdaasClient.builder().configJson(em.configJson).executor(ex).build()) {
            assertSame(ex, c.executor());
            String t = c.getBearerTokenAsync().get(30, TimeUnit.SECONDS);
            assertEquals(t, c.getBearerToken());
            assertTrue(ran.get() > 0);
            assertNotNull(c.getBearerTokenAsync("api.example.com|read:file").get(30, TimeUnit.SECONDS));
            Credential cr = c.exchangeTokenAsync(t, IdaasClient.ACCESS_TOKEN_TYPE, null, null).get(30, TimeUnit.SECONDS);
            assertNotNull(cr.accessToken());
            // errors complete the future exceptionally with the typed exception as the cause
            var f = c.getBearerTokenAsync("api.example.com|admin");
            var ee = assertThrows(java.util.concurrent.ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
            assertInstanceOf(IdaasAuthException.class, ee.getCause());
        } finally {
            ex.shutdownNow();
        }
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            assertSame(Idaas.defaultExecutor(), c.executor());
            assertNotNull(c.getBearerTokenAsync().join());
        }
    }

    @Test
    void debugPanicHookMapsToInternal() {
        // the release library has no test hooks: UNSUPPORTED (902); with test-hooks: PANIC (901)
        IdaasInternalException e = assertThrows(IdaasInternalException.class, Idaas::debugPanic);
        assertTrue(e.code() == ErrorCode.UNSUPPORTED || e.code() == ErrorCode.PANIC, e.toString());
        assertEquals("auth", ErrorCode.name(301));
        assertEquals("unknown", ErrorCode.name(777));
        assertInstanceOf(IdaasInternalException.class, IdaasException.of(777, null, "m", 0, null, null));
        assertInstanceOf(IdaasCancelledException.class, IdaasException.of(600, "cancelled", "m", 0, null, null));
    }
}
