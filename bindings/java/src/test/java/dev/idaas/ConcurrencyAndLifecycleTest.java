package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ConcurrencyAndLifecycleTest {
    static Emulator em;

    @BeforeAll
    static void start() throws Exception {
        em = Emulator.get();
    }

    @Test
    void thirtyTwoThreadsShareOneClient() throws Exception {
        try (IdaasClient c = em.client(); PamClient pam = c.pamClient()) {
            int threads = 32;
            CyclicBarrier start = new CyclicBarrier(threads);
            Set tokens = new Set();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                final int n = i;
                Thread t = new Thread(() -> {
                    try {
                        start.await();
                        for (int k = 0; k < 200; k++) {
                            tokens.add(c.getBearerToken());
                            if (k % 50 == 0) c.getBearerToken(n % 2 == 0 ? "api.example.com|read:file" : "api.example.com|write:file");
                        }
                        if (n % 4 == 0) assertTrue(pam.getApiKey("openai_prod_key").isPresent());
                        if (n % 8 == 1) assertFalse(pam.validateToken("garbage"));
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "client-user-" + i);
                ts.add(t);
                t.start();
            }
            for (Thread t : ts) t.join(60_000);
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertEquals(1, tokens.size(), "one cached default-scope token, single flight");
        }
    }

    static final class Set {
        final ConcurrentHashMap<String, Boolean> m = new ConcurrentHashMap<>();
        void add(String s) { m.put(s, true); }
        int size() { return m.size(); }
    }

    @Test
    void closeIsIdempotentAndLaterCallsThrow() {
        IdaasClient c = em.client();
        PamClient pam = c.pamClient();
        c.getBearerToken();
        long frees = NativeHandle.FREES.get();
        c.close();
        c.close();
        assertTrue(c.isClosed());
        assertTrue(NativeHandle.FREES.get() >= frees + 1);
        assertThrows(IllegalStateException.class, c::getBearerToken);
        assertThrows(IllegalStateException.class, c::pamClient);
        assertThrows(IllegalStateException.class, () -> c.getProvider(null));
        // the PAM client outlives its client
        assertTrue(pam.getApiKey("openai_prod_key").isPresent());
        pam.close();
        assertTrue(pam.isClosed());
        assertThrows(IllegalStateException.class, () -> pam.getApiKey("openai_prod_key"));
        CancellationToken t = new CancellationToken();
        t.close();
        t.cancel(); // a no-op once closed
        assertThrows(IllegalStateException.class, t::isCancelled);
    }

    @Test
    void closeWhileThirtyTwoThreadsAreCalling() throws Exception {
        for (int round = 0; round < 5; round++) {
            IdaasClient c = em.client();
            c.getBearerToken();
            int threads = 32;
            CountDownLatch running = new CountDownLatch(threads);
            AtomicInteger afterClose = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Thread t = new Thread(() -> {
                    running.countDown();
                    try {
                        while (true) c.getBearerToken();
                    } catch (IllegalStateException closed) {
                        afterClose.incrementAndGet();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                ts.add(t);
                t.start();
            }
            running.await(10, TimeUnit.SECONDS);
            Thread.sleep(20);
            long frees = NativeHandle.FREES.get();
            c.close(); // must not free under an in-flight call: the last caller frees
            for (Thread t : ts) t.join(30_000);
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertEquals(threads, afterClose.get());
            assertTrue(NativeHandle.FREES.get() >= frees + 1, "freed once the calls drained");
        }
    }

    @Test
    void cleanerFreesUnreachableHandles() throws Exception {
        long before = NativeHandle.FREES.get();
        for (int i = 0; i < 20; i++) makeGarbage();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        // 20 configs closed explicitly (Emulator.client), 60 handles left to the cleaner
        while (NativeHandle.FREES.get() < before + 80 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(NativeHandle.FREES.get() >= before + 80,
                "cleaner freed " + (NativeHandle.FREES.get() - before - 20) + " of 60 handles");
    }

    private static void makeGarbage() {
        IdaasClient c = em.client();
        c.getBearerToken();
        c.pamClient();
        c.getProvider(null);
    }
}
