package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The binding's JSON (Gson over the generated records, options documents); no server needed. */
class JsonCodecTest {
    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void resultsBecomeRecordsAndTheBytesAreWiped() {
        byte[] json = utf8("{\"instanceId\":\"idaas_1\",\"authenticationTokenId\":\"atntkn_1\",\"revoked\":false,"
                           + "\"createTime\":1700000000123,\"aFieldOfANewerLibrary\":{\"x\":[1]},"
                           + "\"jwtContent\":{\"jwtValue\":\"eyJ.secret\",\"derivedShortToken\":\"dst-secret\"}}");
        JwtTokenResponse r = JsonCodec.result(json, JwtTokenResponse.class);
        assertEquals("idaas_1", r.instanceId());
        assertEquals("atntkn_1", r.authenticationTokenId());
        assertEquals(Boolean.FALSE, r.revoked());
        assertEquals(1700000000123L, r.createTime());
        assertNull(r.updateTime(), "absent: null");
        assertEquals("eyJ.secret", r.jwtContent().jwtValue());
        assertTrue(Arrays.equals(new byte[json.length], json), "the library's bytes are zeroed");
        // secrets never reach toString
        assertFalse(r.toString().contains("secret"), r.toString());
        assertTrue(r.toString().contains("atntkn_1"), r.toString());
        assertNull(JsonCodec.result(null, JwtContent.class));
    }

    @Test
    void credentialUsesTheWireNamesAndLeavesOutAbsentMembers() {
        Credential c = JsonCodec.result(utf8("{\"access_token\":\"tok-secret-1\",\"token_type\":\"Bearer\",\"expires_in\":300,"
                                             + "\"expires_at\":1700000300,\"scope\":\"api|read\"}"), Credential.class);
        assertEquals("tok-secret-1", c.accessToken());
        assertEquals(300, c.expiresIn());
        assertEquals(1700000300L, c.expiresAt());
        assertNull(c.issuedTokenType());
        assertEquals("api|read", c.scope());
        assertEquals("{\"access_token\":\"tok-secret-1\",\"token_type\":\"Bearer\",\"expires_in\":300,\"expires_at\":1700000300,"
                     + "\"scope\":\"api|read\"}", JsonCodec.credential(c));
        assertFalse(c.toString().contains("tok-secret"), c.toString());
    }

    @Test
    void listsAreNeverNullAndUnmodifiable() {
        AuthenticationTokenPage empty = JsonCodec.result(utf8("{\"nextToken\":\"\"}"), AuthenticationTokenPage.class);
        assertEquals(List.of(), empty.entities());
        AuthenticationTokenPage page = JsonCodec.result(utf8(
                "{\"entities\":[{\"authenticationTokenId\":\"a\"},{\"authenticationTokenId\":\"b\"}],\"totalCount\":2}"),
                AuthenticationTokenPage.class);
        assertEquals(List.of("a", "b"), page.entities().stream().map(AuthenticationToken::authenticationTokenId).toList());
        assertThrows(UnsupportedOperationException.class, () -> page.entities().clear());
        List<AuthenticationToken> mine = new ArrayList<>(page.entities());
        AuthenticationTokenPage copy = new AuthenticationTokenPage(mine, 2L, null, null);
        mine.clear();
        assertEquals(2, copy.entities().size(), "the record keeps its own copy");
    }

    @Test
    void aResultThatDoesNotFitIsAnInternalErrorWithoutItsText() {
        for (String bad : List.of("", "[1]", "{\"jwtValue\":", "{\"jwtValue\":\"sec-1\"} x", "{\"jwtValue\":{\"a\":\"sec-2\"}}",
                                  "{'jwtValue':'sec-3'}", "null")) {
            byte[] json = utf8(bad);
            IdaasInternalException e = assertThrows(IdaasInternalException.class,
                    () -> JsonCodec.result(json, JwtContent.class), bad);
            assertEquals(ErrorCode.INTERNAL, e.errorCode());
            assertEquals(ErrorClass.INTERNAL, e.errorClass());
            assertFalse(e.getMessage().contains("sec-"), e.getMessage());
            assertNull(e.getCause());
            assertTrue(Arrays.equals(new byte[json.length], json), "wiped also on failure");
        }
    }

    @Test
    void optionsDocuments() {
        assertNull(new OAuthTokenOptions().toJson(true));
        assertEquals("{\"scope\":\"s\",\"maxPollingRetries\":3,\"intervalMs\":50,\"timeoutMs\":1000}",
                OAuthTokenOptions.defaults().scope("s").maxPollingRetries(3).interval(Duration.ofMillis(50))
                        .timeout(Duration.ofSeconds(1)).toJson(true));
        assertEquals("{\"scope\":\"s\"}", OAuthTokenOptions.defaults().scope("s").maxPollingRetries(3).toJson(false));
        assertEquals("{\"apiKeyCache\":{}}", PamOptions.defaults().apiKeyCache().toJson());
        assertNull(PamOptions.defaults().toJson());
        assertEquals("{\"nextToken\":\"n\",\"maxResults\":2,\"revoked\":false}",
                ListTokensOptions.defaults().maxResults(2).revoked(false).nextToken("n").toJson());
        assertEquals("{\"issuer\":\"i\",\"expiration\":60,\"includeDerivedShortToken\":true}",
                JwtOptions.defaults().issuer("i").expiration(Duration.ofMinutes(1)).includeDerivedShortToken(true).toJson());
        // custom claims: any JSON value, null kept, text as it is (no HTML escaping)
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("s", "a\"b\\c\n\u0001\u00e9<&>='");
        claims.put("n", null);
        claims.put("l", List.of("x", 2L, 1.5, true));
        assertEquals("{\"customClaims\":{\"s\":\"a\\\"b\\\\c\\n\\u0001\u00e9<&>='\",\"n\":null,\"l\":[\"x\",2,1.5,true]}}",
                JwtOptions.defaults().customClaims(claims).toJson());
        assertThrows(IllegalArgumentException.class,
                () -> JwtOptions.defaults().customClaims(Map.of("nan", Double.NaN)).toJson());
        assertEquals("[\"https://a.example/?x=1&y=2\"]", JsonCodec.write(List.of("https://a.example/?x=1&y=2")));
    }
}
