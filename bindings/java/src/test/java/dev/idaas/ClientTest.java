package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
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
        try (IdaasClient c = em.client()) {
            String t = c.getBearerToken();
            assertTrue(t.length() > 20);
            assertEquals(t, c.getBearerToken(), "cached");
            assertEquals(t, c.getBearerToken(null));
            String read = c.getBearerToken("api.example.com|read:file");
            assertNotEquals(t, read);
            assertEquals(read, c.getBearerToken("api.example.com|read:file"));
        }
    }

    @Test
    void initFromFileAndBuilderOptions() {
        try (IdaasClient c = Idaas.init(em.configFile)) {
            assertTrue(c.getBearerToken().length() > 20);
        }
        try (IdaasConfig cfg = IdaasConfig.load(em.configFile);
             IdaasClient c = IdaasClient.builder(cfg).userAgentSuffix("test/1").asyncRefresh(true).prefetch(true).build()) {
            assertTrue(c.getBearerToken().length() > 20);
            // the client keeps its copy: the config may go first
            cfg.close();
            assertTrue(cfg.isClosed());
            assertThrows(IllegalStateException.class, () -> IdaasClient.builder(cfg).build());
            assertTrue(c.getBearerToken("api.example.com|read:file").length() > 20);
        }
    }

    @Test
    void initUsesCloudIdaasConfigPath() throws Exception {
        // surefire sets CLOUD_IDAAS_CONFIG_PATH=target/default-client-config.json
        String env = System.getenv("CLOUD_IDAAS_CONFIG_PATH");
        org.junit.jupiter.api.Assumptions.assumeTrue(env != null, "CLOUD_IDAAS_CONFIG_PATH not set (run through Maven)");
        Path p = Path.of(env);
        Files.writeString(p, em.configJson);
        try (IdaasClient c = Idaas.init()) {
            assertTrue(c.getBearerToken().length() > 20);
        } finally {
            Files.delete(p);
        }
        IdaasConfigException e = assertThrows(IdaasConfigException.class, Idaas::init);
        assertEquals(ErrorCode.CONFIG, e.errorCode());
        assertEquals("LoadConfigFileFailed", e.serverCode());
        assertThrows(IdaasConfigException.class, IdaasConfig::load);
    }

    /** The binding identifies itself in the User-Agent, also through init(), as seen by the server. */
    @Test
    void userAgentNamesTheBinding() throws Exception {
        em.control("DELETE", "/_emulator/requests", null);
        try (IdaasClient c = Idaas.init(em.configFile)) {
            c.getBearerToken();
        }
        assertTrue(lastTokenRequestUserAgent().contains("idaas-java/" + Idaas.version()), lastTokenRequestUserAgent());
        try (IdaasConfig cfg = IdaasConfig.fromJson(em.configJson);
             IdaasClient c = IdaasClient.builder(cfg).userAgentSuffix("ua-test/1").build()) {
            c.getBearerToken();
        }
        assertTrue(lastTokenRequestUserAgent().contains("idaas-java/" + Idaas.version() + " ua-test/1"),
                lastTokenRequestUserAgent());
    }

    static String lastTokenRequestUserAgent() throws Exception {
        var reply = em.controlResponse("GET", "/_emulator/requests?path_contains=token", null);
        assertEquals(200, reply.statusCode(), reply.body());
        JsonArray requests = JsonParser.parseString(reply.body()).getAsJsonObject().getAsJsonArray("requests");
        assertFalse(requests.isEmpty(), reply.body());
        for (JsonElement h : requests.get(requests.size() - 1).getAsJsonObject().getAsJsonArray("headers")) {
            if (h.getAsJsonArray().get(0).getAsString().equalsIgnoreCase("user-agent")) {
                return h.getAsJsonArray().get(1).getAsString();
            }
        }
        return fail("no User-Agent in " + reply.body());
    }

    @Test
    void configErrors() {
        IdaasConfigException e = assertThrows(IdaasConfigException.class,
                () -> Idaas.init(Path.of("/nonexistent/idaas.json")));
        assertEquals("config", e.kind());
        assertEquals(ErrorClass.CONFIG, e.errorClass());
        assertEquals("LoadConfigFileFailed", e.serverCode());
        assertEquals(0, e.httpStatus());
        assertFalse(e.isRetryable());
        assertThrows(IdaasConfigException.class, () -> IdaasConfig.fromJson("{}"));
        assertThrows(IdaasConfigException.class, () -> IdaasConfig.fromJson("not json"));
        assertThrows(NullPointerException.class, () -> IdaasConfig.fromJson(null));
        assertThrows(NullPointerException.class, () -> Idaas.init(null));
    }

    @Test
    void scopeErrors() {
        try (IdaasClient c = em.client()) {
            IdaasInvalidArgumentException bad = assertThrows(IdaasInvalidArgumentException.class,
                    () -> c.getBearerToken("bad scope"));
            assertEquals(ErrorCode.INVALID_ARGUMENT, bad.errorCode());
            // refused by the server: a scope the client was not granted
            IdaasAuthException e = assertThrows(IdaasAuthException.class, () -> c.getBearerToken("api.example.com|admin"));
            assertEquals(ErrorCode.AUTH, e.errorCode());
            assertEquals(ErrorClass.AUTHENTICATION, e.errorClass());
            assertTrue(e.httpStatus() >= 400 && e.httpStatus() < 500);
            assertNotNull(e.serverCode());
            assertEquals("auth", e.kind());
            assertFalse(e.isRetryable());
        }
    }

    @Test
    void stringMarshalling() {
        try (IdaasClient c = em.client()) {
            // a lone surrogate is not valid UTF-8: the library reports it
            IdaasInvalidArgumentException e = assertThrows(IdaasInvalidArgumentException.class,
                    () -> c.getBearerToken("api.example.com|\uD800"));
            assertEquals(ErrorCode.INVALID_UTF8, e.errorCode());
            // an embedded NUL would truncate the C string: rejected by the glue
            e = assertThrows(IdaasInvalidArgumentException.class, () -> c.getBearerToken("api.example.com|read\0x"));
            assertEquals(ErrorCode.INVALID_ARGUMENT, e.errorCode());
            // non-ASCII passes through as UTF-8 (and is refused as a scope by the library)
            assertThrows(IdaasException.class, () -> c.getBearerToken("api.example.com|r\u00e9ad\uD83D\uDE00"));
            // a long argument (heap path of the glue)
            assertThrows(IdaasInvalidArgumentException.class, () -> c.getBearerToken("x".repeat(5000) + " y"));
        }
    }

    @Test
    void wrongSecretIs401WithRequestId() {
        try (IdaasClient c = Emulator.client(em.configWithSecretVar("IDAAS_JAVA_TEST_WRONG_SECRET"))) {
            IdaasAuthException e = assertThrows(IdaasAuthException.class, c::getBearerToken);
            assertEquals(401, e.httpStatus());
            assertEquals("invalid_client", e.serverCode());
            assertNotNull(e.requestId());
            assertFalse(e.getMessage().contains("not-the-secret"));
        }
        try (IdaasConfig cfg = IdaasConfig.fromJson(em.configWithSecretVar("IDAAS_JAVA_TEST_WRONG_SECRET"))) {
            IdaasAuthException e = assertThrows(IdaasAuthException.class,
                    () -> IdaasClient.builder(cfg).prefetch(true).build());
            assertEquals(ErrorCode.AUTH, e.errorCode());
        }
    }

    @Test
    void unsetSecretVariableIsACredentialError() {
        try (IdaasClient c = Emulator.client(em.configWithSecretVar("IDAAS_JAVA_TEST_UNSET_SECRET"))) {
            IdaasCredentialException e = assertThrows(IdaasCredentialException.class, c::getBearerToken);
            assertEquals(ErrorCode.CREDENTIAL, e.errorCode());
            assertTrue(e.getMessage().contains("IDAAS_JAVA_TEST_UNSET_SECRET"), e.getMessage());
            assertInstanceOf(IdaasAuthException.class, e);
        }
    }

    @Test
    void serverFaultsMapToExceptions() throws Exception {
        em.addFault("token=status/503:10");
        try (IdaasClient c = em.client()) {
            IdaasServerException e = assertThrows(IdaasServerException.class, c::getBearerToken);
            assertEquals(ErrorCode.SERVER_ERROR, e.errorCode());
            assertEquals(503, e.httpStatus());
            assertEquals("server", e.kind());
            assertEquals(ErrorClass.SERVER_REPLY, e.errorClass());
            assertTrue(e.isRetryable());
        }
        em.clearFaults();
        em.addFault("token=non-json:10");
        try (IdaasClient c = em.client()) {
            IdaasServerException e = assertThrows(IdaasServerException.class, c::getBearerToken);
            assertEquals(ErrorCode.UNEXPECTED_RESPONSE, e.errorCode());
            assertFalse(e.isRetryable());
        }
        em.clearFaults();
        em.addFault("token=reset:10");
        try (IdaasClient c = em.client()) {
            IdaasNetworkException e = assertThrows(IdaasNetworkException.class, c::getBearerToken);
            assertEquals(ErrorCode.TRANSPORT, e.errorCode());
            assertTrue(e.isRetryable());
        }
        em.clearFaults();
        em.addFault("token=status/429:10");
        try (IdaasClient c = em.client()) {
            // throttled: the library's classification (AUTH for a token-endpoint throttle) and its verdict
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
        try (IdaasClient c = Emulator.client(cfg)) {
            IdaasNetworkException e = assertThrows(IdaasNetworkException.class, c::getBearerToken);
            assertEquals(ErrorCode.TRANSPORT, e.errorCode());
            assertEquals(0, e.httpStatus());
        }
        em.addFault("token=latency/4000:10");
        try (IdaasClient c = Emulator.client(em.configWithHttp("\"readTimeout\":2000,"))) {
            IdaasTimeoutException e = assertThrows(IdaasTimeoutException.class, c::getBearerToken);
            assertEquals(ErrorCode.TIMEOUT, e.errorCode());
            assertEquals(ErrorClass.NETWORK, e.errorClass());
            assertTrue(e.isRetryable());
            assertInstanceOf(IdaasNetworkException.class, e);
        }
    }

    @Test
    void tokenExchangeAndProviders() {
        try (IdaasClient c = em.client()) {
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
        try (IdaasConfig cfg = IdaasConfig.fromJson(em.configJson);
             IdaasClient c = IdaasClient.builder(cfg).executor(ex).build()) {
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
        try (IdaasClient c = em.client()) {
            assertSame(Idaas.defaultExecutor(), c.executor());
            assertNotNull(c.getBearerTokenAsync().join());
        }
    }

    @Test
    void debugPanicHookMapsToInternal() {
        // the release library has no test hooks: UNSUPPORTED (902); with test-hooks: PANIC (901)
        IdaasInternalException e = assertThrows(IdaasInternalException.class, Idaas::debugPanic);
        assertTrue(e.errorCode() == ErrorCode.UNSUPPORTED || e.errorCode() == ErrorCode.PANIC, e.toString());
        assertEquals(ErrorClass.INTERNAL, e.errorClass());
        assertEquals("auth", new String(Native.codeName(301), StandardCharsets.UTF_8));
    }

    /** The exception type follows the class the library gives a code, also a code this version does not know. */
    @Test
    void exceptionTypesFollowTheLibrarysClass() {
        assertEquals(ErrorClass.CANCELLED, ErrorClass.fromValue(Native.codeClass(ErrorCode.CANCELLED.value())));
        IdaasException unknown = IdaasException.fromNative(777, Native.codeClass(777), false, 0,
                "unknown".getBytes(StandardCharsets.UTF_8), "m".getBytes(StandardCharsets.UTF_8), null, null);
        assertInstanceOf(IdaasInternalException.class, unknown);
        assertEquals(777, unknown.code());
        assertNull(unknown.errorCode());
        assertEquals(ErrorClass.INTERNAL, unknown.errorClass());
        // a newer library's code in a known group: classified by the library, typed by its class
        IdaasException newer = IdaasException.fromNative(399, Native.codeClass(399), true, 0, null, null, null, null);
        assertInstanceOf(IdaasAuthException.class, newer);
        assertFalse(newer instanceof IdaasCredentialException);
        assertTrue(newer.isRetryable(), "the verdict is the library's, passed through");
        for (ErrorCode code : ErrorCode.values()) {
            IdaasException x = IdaasException.fromNative(code.value(), Native.codeClass(code.value()), false, 0,
                    null, null, null, null);
            assertEquals(ErrorClass.fromValue(Native.codeClass(code.value())), x.errorClass(), code.name());
            assertEquals(code, x.errorCode());
        }
    }
}
