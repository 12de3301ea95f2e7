package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.System.Logger.Level;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class PluginAndLoggingTest {
    static String pluginConfig(String name) {
        return "{\"idaasInstanceId\":\"idaas_test\",\"clientId\":\"app_test\","
               + "\"issuer\":\"http://127.0.0.1:9/api/v2/iauths_system/oauth2\","
               + "\"tokenEndpoint\":\"http://127.0.0.1:9/api/v2/iauths_system/oauth2/token\","
               + "\"authnConfiguration\":{\"authnMethod\":\"PLUGIN\",\"pluginName\":\"" + name + "\"}}";
    }

    /** A client of a PLUGIN configuration whose plugin {@code name} is {@code plugin}. */
    static IdaasClient pluginClient(String name, TokenPlugin plugin) {
        try (IdaasConfig cfg = IdaasConfig.fromJson(pluginConfig(name))) {
            return IdaasClient.builder(cfg.addPlugin(name, plugin)).build();
        }
    }

    /** Runs the garbage collector until {@code ref} is cleared (at most 20 s); whether it was. */
    static boolean collected(WeakReference<?> ref) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ref.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        return ref.get() == null;
    }

    @Test
    void pluginSuppliesTokens() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ConcurrentHashMap<String, Boolean> threads = new ConcurrentHashMap<>();
        try (IdaasClient c = pluginClient("java-test-plugin", scope -> {
            calls.incrementAndGet();
            threads.put(Thread.currentThread().getName(), true);
            // the default scope of a configuration without one is urn:cloud:idaas:pam|.all
            return new PluginToken(scope.startsWith("urn:cloud:idaas") ? "p".repeat(5000) : "scoped-" + scope, 3600);
        })) {
            // a 5000-byte token: bigger than the initial 2048-byte buffer of the hot path
            assertTrue("p".repeat(5000).equals(c.getBearerToken()));
            assertTrue("p".repeat(5000).equals(c.getBearerToken()));
            assertEquals(1, calls.get(), "cached for its lifetime");
            assertEquals("scoped-api.example.com|read:file", c.getBearerToken("api.example.com|read:file"));
            // the provider read path grows its buffer the same way
            try (CredentialProvider p = c.getProvider(null)) {
                assertTrue("p".repeat(5000).equals(p.getToken()));
            }
            // token exchange is not available for PLUGIN clients
            assertThrows(IdaasConfigException.class, () -> c.exchangeToken("t"));
            assertThrows(IdaasConfigException.class, () -> c.getExchangeProvider(null));
            // from many Java threads at once
            List<Thread> ts = new ArrayList<>();
            AtomicReference<Throwable> fail = new AtomicReference<>();
            for (int i = 0; i < 8; i++) {
                Thread t = new Thread(() -> {
                    try {
                        for (int k = 0; k < 50; k++) assertTrue(c.getBearerToken("aud" + (k % 5) + "|s").startsWith("scoped-"));
                    } catch (Throwable e) {
                        fail.set(e);
                    }
                });
                ts.add(t);
                t.start();
            }
            for (Thread t : ts) t.join();
            if (fail.get() != null) throw new AssertionError(fail.get());
        }
    }

    @Test
    void pluginCallingItsOwnClientGetsReentrantCall() throws Exception {
        // A plugin asking its own client for the token it is fetching: the inner call fails at once
        // (IdaasReentrantCallException) instead of waiting for itself; another scope works.
        AtomicReference<IdaasClient> self = new AtomicReference<>();
        AtomicReference<Throwable> inner = new AtomicReference<>();
        TokenPlugin reentrant = scope -> {
            if (scope.equals("api.example.com|other")) return new PluginToken("other-token", 3600);
            if (scope.endsWith("|use-other")) {
                return new PluginToken("via-" + self.get().getBearerToken("api.example.com|other"), 3600);
            }
            try {
                self.get().getBearerToken();
                return new PluginToken("unreachable", 3600);
            } catch (IdaasException e) {
                inner.set(e);
                throw e;
            }
        };
        try (IdaasClient c = pluginClient("java-reentrant", reentrant)) {
            self.set(c);
            java.util.concurrent.FutureTask<String> outer = new java.util.concurrent.FutureTask<>(c::getBearerToken);
            Thread t = new Thread(outer);
            t.setDaemon(true); // before the fix it never ends
            t.start();
            java.util.concurrent.ExecutionException ex = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> outer.get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertInstanceOf(IdaasCredentialException.class, ex.getCause());
            IdaasException e = assertInstanceOf(IdaasReentrantCallException.class, inner.get());
            assertInstanceOf(IdaasInvalidArgumentException.class, e);
            assertEquals(ErrorCode.REENTRANT_CALL, e.errorCode());
            assertEquals("reentrant_call", e.kind());
            assertEquals("via-other-token", c.getBearerToken("api.example.com|use-other"));
        }
    }

    @Test
    void pluginCalledFromANativeRefreshThread() throws Exception {
        // a 10 s token: refresh-ahead window [4 s - jitter, 5 s - jitter); with asyncRefresh the refresh
        // runs on a library (native) thread, which the glue attaches to the JVM
        ConcurrentHashMap<String, Boolean> threads = new ConcurrentHashMap<>();
        AtomicInteger calls = new AtomicInteger();
        TokenPlugin plugin = scope -> {
            threads.put(Thread.currentThread().getName(), Thread.currentThread().isDaemon());
            return new PluginToken("async-" + calls.incrementAndGet(), 10);
        };
        try (IdaasConfig cfg = IdaasConfig.fromJson(pluginConfig("java-test-async")).addPlugin("java-test-async", plugin);
             IdaasClient c = IdaasClient.builder(cfg).asyncRefresh(true).build()) {
            assertEquals("async-1", c.getBearerToken());
            Thread.sleep(2900);
            long deadline = System.nanoTime() + 7_000_000_000L;
            while (calls.get() < 2 && System.nanoTime() < deadline) {
                assertTrue(c.getBearerToken().startsWith("async-"));
                Thread.sleep(50);
            }
            assertTrue(calls.get() >= 2, "refreshed");
            // "idaas-native": the name the glue gives native threads it attaches (as daemons)
            assertEquals(Boolean.TRUE, threads.get("idaas-native"), "a refresh on an attached native thread: " + threads);
        }
    }

    @Test
    void pluginWithoutLifetimeIsCalledEveryTime() {
        AtomicInteger calls = new AtomicInteger();
        try (IdaasClient c = pluginClient("java-test-uncached", scope -> new PluginToken("t" + calls.incrementAndGet(), 0))) {
            assertEquals("t1", c.getBearerToken());
            assertEquals("t2", c.getBearerToken());
        }
    }

    @Test
    void pluginFailuresAreCredentialErrors() {
        try (IdaasClient c = pluginClient("java-test-failing", scope -> {
            throw new IllegalStateException("vault unreachable");
        })) {
            IdaasCredentialException e = assertThrows(IdaasCredentialException.class, c::getBearerToken);
            assertEquals("PluginFailed", e.serverCode());
            assertTrue(e.getMessage().contains("vault unreachable"), e.getMessage());
        }
        try (IdaasClient c = pluginClient("java-test-null", scope -> null)) {
            assertThrows(IdaasCredentialException.class, c::getBearerToken);
        }
        try (IdaasClient c = pluginClient("java-test-blank", scope -> new PluginToken(" ", 60))) {
            assertThrows(IdaasCredentialException.class, c::getBearerToken);
        }
        assertThrows(IdaasConfigException.class, () -> Emulator.client(pluginConfig("java-test-never-added")));
        try (IdaasConfig cfg = IdaasConfig.fromJson(pluginConfig("java-test-other"))) {
            assertThrows(IdaasInvalidArgumentException.class, () -> cfg.addPlugin(" ", s -> null));
            assertThrows(IdaasInvalidArgumentException.class, () -> cfg.addPlugin(null, s -> null));
            assertThrows(IdaasInvalidArgumentException.class, () -> cfg.addPlugin("java-test-other", null));
            // a plugin added to another config is not this one's
            assertThrows(IdaasConfigException.class, () -> IdaasClient.builder(cfg).build());
        }
    }

    /**
     * A plugin belongs to its config and the clients made from it: it stays reachable while one of them
     * may call it, and the library releases it (the glue deletes its global reference) with the last one.
     */
    @Test
    void pluginIsReleasedWithItsLastHandle() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        TokenPlugin plugin = scope -> new PluginToken("released-" + calls.incrementAndGet(), 0);
        WeakReference<TokenPlugin> ref = new WeakReference<>(plugin);
        IdaasClient c = pluginClient("java-test-released", plugin);
        plugin = null;
        // the config is closed, the client still calls the plugin (0 = not cached: one call per read)
        System.gc();
        assertEquals("released-1", c.getBearerToken());
        assertNotNull(ref.get(), "held while the client lives");
        c.close();
        assertTrue(collected(ref), "the plugin is still referenced after its config and client were closed");
    }

    @Test
    void replacingAPluginReleasesTheOldOne() throws Exception {
        AtomicInteger firstCalls = new AtomicInteger(); // captured: a lambda capturing nothing is a never-collected singleton
        TokenPlugin first = scope -> new PluginToken("first-" + firstCalls.incrementAndGet(), 60);
        WeakReference<TokenPlugin> ref = new WeakReference<>(first);
        try (IdaasConfig cfg = IdaasConfig.fromJson(pluginConfig("java-test-replaced"))) {
            cfg.addPlugin("java-test-replaced", first);
            first = null;
            cfg.addPlugin("java-test-replaced", scope -> new PluginToken("second", 60));
            assertTrue(collected(ref), "the replaced plugin, used by no client, is released");
            try (IdaasClient c = IdaasClient.builder(cfg).build()) {
                assertEquals("second", c.getBearerToken());
            }
        }
    }

    /** A logger set on a config receives its clients' records; it is released with its last handle. */
    @Test
    void configLoggerReceivesItsClientsRecords() throws Exception {
        Emulator em = Emulator.get();
        List<String> records = Collections.synchronizedList(new ArrayList<>());
        List<String> threads = Collections.synchronizedList(new ArrayList<>());
        IdaasLogger logger = (level, target, message) -> {
            records.add(level + " " + target + " " + message);
            threads.add(Thread.currentThread().getName());
        };
        WeakReference<IdaasLogger> ref = new WeakReference<>(logger);
        try (IdaasConfig cfg = IdaasConfig.fromJson(em.configJson)) {
            cfg.setLogger(logger, Level.TRACE);
            logger = null;
            try (IdaasClient c = IdaasClient.builder(cfg).build()) {
                c.getBearerToken("api.example.com|read:file");
            }
            assertTrue(records.stream().anyMatch(r -> r.contains(" idaas")), "no record from the library: " + records);
            assertTrue(records.stream().noneMatch(r -> r.contains(em.clientSecret)), "a secret was logged");
            // removed for later clients: nothing more reaches it
            cfg.setLogger(null, Level.OFF);
            records.clear();
            try (IdaasClient c = IdaasClient.builder(cfg).build()) {
                c.getBearerToken("api.example.com|read:file");
            }
            assertEquals(List.of(), records);
        }
        assertTrue(collected(ref), "the logger is still referenced after its config and client were closed");
        // a logger that throws is ignored (nothing unwinds into the library)
        try (IdaasConfig cfg = IdaasConfig.fromJson(em.configJson)
                .setLogger((l, t, m) -> { throw new IllegalStateException("boom"); }, Level.TRACE);
             IdaasClient c = IdaasClient.builder(cfg).build()) {
            assertTrue(c.getBearerToken().length() > 20);
        }
        try (IdaasConfig cfg = IdaasConfig.fromJson(em.configJson)) {
            assertThrows(NullPointerException.class, () -> cfg.setLogger(IdaasLogger.systemLoggers(), null));
        }
    }

    /** Loggers named after the library's Rust modules ("idaas::cache" -> "idaas.cache", "ureq::run" ...). */
    static boolean isLibrary(String name) {
        return name != null && (name.startsWith("idaas") || name.startsWith("ureq") || name.startsWith("rustls"));
    }

    @Test
    void logRecordsReachSystemLogger() throws Exception {
        Emulator em = Emulator.get();
        List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        Logger root = Logger.getLogger("");
        java.util.logging.Level old = root.getLevel();
        root.addHandler(h);
        root.setLevel(java.util.logging.Level.ALL);
        try {
            Idaas.setLogLevel(Level.TRACE);
            try (IdaasClient c = em.client()) {
                c.getBearerToken("api.example.com|read:file");
            }
            assertFalse(records.isEmpty(), "no log record forwarded");
            assertTrue(records.stream().anyMatch(r -> isLibrary(r.getLoggerName())),
                    "no record from an idaas logger: " + records.stream().map(LogRecord::getLoggerName).distinct().toList());
            assertTrue(records.stream().noneMatch(r -> String.valueOf(r.getMessage()).contains(em.clientSecret)),
                    "a secret was logged");
            Idaas.setLogLevel(Level.OFF);
            records.clear();
            try (IdaasClient c = em.client()) {
                c.getBearerToken("api.example.com|write:file");
            }
            assertTrue(records.stream().noneMatch(r -> isLibrary(r.getLoggerName())));
        } finally {
            Idaas.setLogLevel(Level.valueOf(System.getProperty("idaas.log.level", "WARNING")));
            root.removeHandler(h);
            root.setLevel(old);
        }
    }
}
