package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The binding's minimal JSON reader/writer (no server needed). */
class JsonTest {
    @Test
    void parsesTheAbisShapes() {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse(
                " {\"a\": \"x\\\"y\\\\z\\/\\n\\t\\u00e9\\ud83d\\ude00\", \"n\": -12, \"big\": 12345678901234567890,"
                + " \"f\": 1.5e3, \"t\": true, \"F\": false, \"z\": null, \"l\": [1, {\"k\": []}, \"s\"], \"e\": {}} ");
        assertEquals("x\"y\\z/\n\t\u00e9\uD83D\uDE00", m.get("a"));
        assertEquals(-12L, m.get("n"));
        assertEquals(1.2345678901234567e19, (Double) m.get("big"), 1e5);
        assertEquals(1500.0, m.get("f"));
        assertEquals(Boolean.TRUE, m.get("t"));
        assertEquals(Boolean.FALSE, m.get("F"));
        assertTrue(m.containsKey("z") && m.get("z") == null);
        assertEquals(3, ((List<?>) m.get("l")).size());
        assertEquals(Map.of(), m.get("e"));
        assertNull(Json.lng(m, "a"));
        assertEquals(7L, Json.lng(m, "missing", 7));
        for (String bad : List.of("", "{", "{\"a\" 1}", "[1,]x", "\"abc", "tru", "{\"a\":1}}", "{\"a\":\"\\q\"}")) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void writesOptions() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a\"b\\c\n\u0001\u00e9");
        m.put("i", 3);
        m.put("b", true);
        m.put("n", null);
        m.put("l", List.of("x", 2L));
        m.put("m", Map.of("k", 1.5));
        String json = Json.write(m);
        assertEquals("{\"s\":\"a\\\"b\\\\c\\n\\u0001\u00e9\",\"i\":3,\"b\":true,\"n\":null,\"l\":[\"x\",2],\"m\":{\"k\":1.5}}", json);
        assertEquals(m.get("s"), ((Map<?, ?>) Json.parse(json)).get("s"));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
        assertNull(Json.options("a", null));
        assertEquals("{\"a\":1}", Json.options("a", 1, "b", null));
    }

    @Test
    void resultsAreWipedAfterParsing() {
        byte[] utf8 = "{\"jwtValue\":\"secret\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals("secret", Json.parseResult(utf8).get("jwtValue"));
        assertTrue(Arrays.equals(new byte[utf8.length], utf8), "the library's bytes are zeroed");
        assertNull(Json.parseResult(null));
        assertThrows(IdaasInternalException.class, () -> Json.parseResult("[1]".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void optionsDocuments() {
        assertNull(new OAuthTokenOptions().toJson(true));
        assertEquals("{\"scope\":\"s\",\"maxPollingRetries\":3,\"intervalMs\":50,\"timeoutMs\":1000}",
                OAuthTokenOptions.defaults().scope("s").maxPollingRetries(3).interval(java.time.Duration.ofMillis(50))
                        .timeout(java.time.Duration.ofSeconds(1)).toJson(true));
        assertEquals("{\"scope\":\"s\"}", OAuthTokenOptions.defaults().scope("s").maxPollingRetries(3).toJson(false));
        assertEquals("{\"apiKeyCache\":{}}", PamOptions.defaults().apiKeyCache().toJson());
        assertNull(PamOptions.defaults().toJson());
        assertEquals("{\"nextToken\":\"n\",\"maxResults\":2,\"revoked\":false}",
                ListTokensOptions.defaults().maxResults(2).revoked(false).nextToken("n").toJson());
        assertEquals("{\"issuer\":\"i\",\"expiration\":60,\"includeDerivedShortToken\":true}",
                JwtOptions.defaults().issuer("i").expiration(java.time.Duration.ofMinutes(1)).includeDerivedShortToken(true).toJson());
    }
}
