package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
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

    @Test
    void pluginSuppliesTokens() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ConcurrentHashMap<String, Boolean> threads = new ConcurrentHashMap<>();
        Idaas.registerPlugin("java-test-plugin", scope -> {
            calls.incrementAndGet();
            threads.put(Thread.currentThread().getName(), true);
            // the default scope of a configuration without one is urn:cloud:idaas:pam|.all
            return new PluginToken(scope.startsWith("urn:cloud:idaas") ? "p".repeat(5000) : "scoped-" + scope, 3600);
        });
        try (IdaasClient c = IdaasClient.fromJson(pluginConfig("java-test-plugin"))) {
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
        Idaas.registerPlugin("java-reentrant", scope -> {
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
        });
        try (IdaasClient c = IdaasClient.fromJson(pluginConfig("java-reentrant"))) {
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
            assertEquals(ErrorCode.REENTRANT_CALL, e.code());
            assertEquals("reentrant_call", ErrorCode.name(ErrorCode.REENTRANT_CALL));
            assertEquals("via-other-token", c.getBearerToken("api.example.com|use-other"));
        }
    }

    @Test
    void pluginCalledFromANativeRefreshThread() throws Exception {
        // a 10 s token: refresh-ahead window [4 s - jitter, 5 s - jitter); with asyncRefresh the refresh
        // runs on a library (native) thread, which the glue attaches to the JVM
        ConcurrentHashMap<String, Boolean> threads = new ConcurrentHashMap<>();
        AtomicInteger calls = new AtomicInteger();
        Idaas.registerPlugin("java-test-async", scope -> {
            threads.put(Thread.currentThread().getName(), Thread.currentThread().isDaemon());
            return new PluginToken("async-" + calls.incrementAndGet(), 10);
        });
        try (IdaasClient c = IdaasClient.builder().configJson(pluginConfig("java-test-async")).asyncRefresh(true).build()) {
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
        Idaas.registerPlugin("java-test-uncached", scope -> new PluginToken("t" + calls.incrementAndGet(), 0));
        try (IdaasClient c = IdaasClient.fromJson(pluginConfig("java-test-uncached"))) {
            assertEquals("t1", c.getBearerToken());
            assertEquals("t2", c.getBearerToken());
        }
    }

    @Test
    void pluginFailuresAreCredentialErrors() {
        Idaas.registerPlugin("java-test-failing", scope -> {
            throw new IllegalStateException("vault unreachable");
        });
        try (IdaasClient c = IdaasClient.fromJson(pluginConfig("java-test-failing"))) {
            IdaasCredentialException e = assertThrows(IdaasCredentialException.class, c::getBearerToken);
            assertEquals("PluginFailed", e.serverCode());
            assertTrue(e.getMessage().contains("vault unreachable"), e.getMessage());
        }
        Idaas.registerPlugin("java-test-null", scope -> null);
        try (IdaasClient c = IdaasClient.fromJson(pluginConfig("java-test-null"))) {
            assertThrows(IdaasCredentialException.class, c::getBearerToken);
        }
        Idaas.registerPlugin("java-test-blank", scope -> new PluginToken(" ", 60));
        try (IdaasClient c = IdaasClient.fromJson(pluginConfig("java-test-blank"))) {
            assertThrows(IdaasCredentialException.class, c::getBearerToken);
        }
        assertThrows(IdaasConfigException.class, () -> IdaasClient.fromJson(pluginConfig("java-test-never-registered")));
        assertThrows(IdaasInvalidArgumentException.class, () -> Idaas.registerPlugin(" ", s -> null));
        assertThrows(IdaasInvalidArgumentException.class, () -> Idaas.registerPlugin(null, s -> null));
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
            try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
                c.getBearerToken("api.example.com|read:file");
            }
            assertFalse(records.isEmpty(), "no log record forwarded");
            assertTrue(records.stream().anyMatch(r -> isLibrary(r.getLoggerName())),
                    "no record from an idaas logger: " + records.stream().map(LogRecord::getLoggerName).distinct().toList());
            assertTrue(records.stream().noneMatch(r -> String.valueOf(r.getMessage()).contains(em.clientSecret)),
                    "a secret was logged");
            Idaas.setLogLevel(Level.OFF);
            records.clear();
            try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
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
