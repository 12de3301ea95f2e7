package dev.idaas;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token-exchange result (the ABI's credential JSON). {@code toString()} never shows the token.
 *
 * @param accessToken     the issued token (a secret)
 * @param tokenType       e.g. {@code Bearer}
 * @param expiresIn       lifetime in seconds
 * @param expiresAt       expiry in epoch seconds, 0 = unknown
 * @param issuedTokenType the token-type URN of the issued token, or null
 */
public record Credential(String accessToken, String tokenType, long expiresIn, long expiresAt,
                         String issuedTokenType) {
    static Credential from(Map<String, Object> m) {
        return new Credential(Json.str(m, "access_token"), Json.str(m, "token_type"), Json.lng(m, "expires_in", 0),
                Json.lng(m, "expires_at", 0), Json.str(m, "issued_token_type"));
    }

    /** The credential JSON of the ABI (for {@code idaas_provider_new_from_credential_json}). */
    String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("access_token", accessToken);
        m.put("token_type", tokenType);
        m.put("expires_in", expiresIn);
        m.put("expires_at", expiresAt);
        m.put("issued_token_type", issuedTokenType);
        return Json.write(m);
    }

    @Override
    public String toString() {
        return "Credential[accessToken=***, tokenType=" + tokenType + ", expiresIn=" + expiresIn + ", expiresAt="
               + expiresAt + ", issuedTokenType=" + issuedTokenType + "]";
    }
}
