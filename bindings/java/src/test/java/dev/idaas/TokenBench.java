package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The cached bearer-token read (the hot path), measured with a System.nanoTime harness: warm-up, then
 * 21 batches; prints the median ns/op of the batches. Run with {@code make -C bindings/java bench}.
 */
@EnabledIfSystemProperty(named = "idaas.bench", matches = "true")
class TokenBench {
    static volatile Object sink;

    static double medianNsPerOp(Supplier<String> op, int batch, int batches) {
        for (int i = 0; i < 300_000; i++) sink = op.get(); // warm-up (JIT)
        double[] r = new double[batches];
        for (int b = 0; b < batches; b++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) sink = op.get();
            r[b] = (System.nanoTime() - t0) / (double) batch;
        }
        Arrays.sort(r);
        return r[batches / 2];
    }

    @Test
    void cachedBearerTokenRead() throws Exception {
        Emulator em = Emulator.get();
        try (IdaasClient c = IdaasClient.fromJson(em.configJson)) {
            String token = c.getBearerToken();
            int len = token.length();
            byte[] buf = new byte[4096];
            double into = medianNsPerOp(c::getBearerToken, 200_000, 21);
            double utf = medianNsPerOp(() -> c.getBearerTokenNewStringUtf(null), 200_000, 21);
            double latin1 = medianNsPerOp(() -> {
                long p = c.handle.acquire();
                try {
                    int n = Native.clientGetTokenInto(p, null, buf);
                    return new String(buf, 0, n, StandardCharsets.ISO_8859_1);
                } finally {
                    c.handle.release();
                }
            }, 200_000, 21);
            double scoped = medianNsPerOp(() -> c.getBearerToken("api.example.com|read:file"), 200_000, 21);
            System.out.printf("BENCH token length %d bytes, %s%n", len, Runtime.version());
            System.out.printf("BENCH getBearerToken()                 (get_token_into + thread-local byte[] + UTF-8 decode + wipe): %.1f ns/op%n", into);
            System.out.printf("BENCH get_token_into + ISO_8859_1 String (no wipe)                                             : %.1f ns/op%n", latin1);
            System.out.printf("BENCH get_token + NewStringUTF                                                               : %.1f ns/op%n", utf);
            System.out.printf("BENCH getBearerToken(\"api.example.com|read:file\")                                         : %.1f ns/op%n", scoped);
            assertEquals(token, c.getBearerToken());
        }
    }
}
