package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The cached bearer-token read (the hot path), measured with a System.nanoTime harness: every variant
 * is warmed up (JIT), then the variants are measured round-robin (so machine noise hits all of them
 * alike) in batches of 20,000 calls; prints the median ns/op over the batches of each variant.
 * Run with {@code make -C bindings/java bench}.
 */
@EnabledIfSystemProperty(named = "idaas.bench", matches = "true")
class TokenBench {
    static volatile Object sink;
    static final int BATCH = 20_000;
    static final int ROUNDS = Integer.getInteger("idaas.bench.rounds", 60);

    static double batch(Supplier<?> op) {
        long t0 = System.nanoTime();
        for (int i = 0; i < BATCH; i++) sink = op.get();
        return (System.nanoTime() - t0) / (double) BATCH;
    }

    @Test
    void cachedBearerTokenRead() throws Exception {
        Emulator em = Emulator.get();
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            String token = c.getBearerToken();
            c.getBearerToken("api.example.com|read:file");
            byte[] buf = new byte[4096];
            Map<String, Supplier<?>> variants = new LinkedHashMap<>();
            variants.put("getBearerToken()  [get_token_into -> thread-local byte[] -> UTF-8 String, wipe]", c::getBearerToken);
            variants.put("get_token_into -> byte[] -> ISO_8859_1 String (no wipe)", () -> {
                long p = c.handle.acquire();
                try {
                    int n = Native.clientGetTokenInto(p, null, buf);
                    return new String(buf, 0, n, StandardCharsets.ISO_8859_1);
                } finally {
                    c.handle.release();
                }
            });
            variants.put("get_token_into -> byte[] only (no String: the JNI floor)", () -> {
                long p = c.handle.acquire();
                try {
                    return Native.clientGetTokenInto(p, null, buf);
                } finally {
                    c.handle.release();
                }
            });
            variants.put("get_token + NewStringUTF", () -> c.getBearerTokenNewStringUtf(null));
            variants.put("getBearerToken(\"api.example.com|read:file\") (scope string marshalled)",
                    () -> c.getBearerToken("api.example.com|read:file"));
            CredentialProvider scopedProvider = c.getProvider("api.example.com|read:file");
            variants.put("getProvider(\"api.example.com|read:file\").getToken() (scope bound once)", scopedProvider::getToken);
            Map<String, List<Double>> results = new LinkedHashMap<>();
            for (var e : variants.entrySet()) {
                for (int i = 0; i < 15; i++) batch(e.getValue()); // warm-up
                results.put(e.getKey(), new ArrayList<>());
            }
            for (int r = 0; r < ROUNDS; r++) {
                for (var e : variants.entrySet()) results.get(e.getKey()).add(batch(e.getValue()));
            }
            System.out.printf("BENCH %s, token %d bytes, %d rounds x %d calls, %d CPUs, load %.1f%n",
                    Runtime.version(), token.length(), ROUNDS, BATCH, Runtime.getRuntime().availableProcessors(),
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            for (var e : results.entrySet()) {
                List<Double> v = e.getValue();
                v.sort(null);
                System.out.printf("BENCH %-92s median %7.1f ns/op  (p10 %7.1f, p90 %7.1f)%n", e.getKey(),
                        v.get(v.size() / 2), v.get(v.size() / 10), v.get(v.size() * 9 / 10));
            }
            assertEquals(token, c.getBearerToken());
        }
    }
}
