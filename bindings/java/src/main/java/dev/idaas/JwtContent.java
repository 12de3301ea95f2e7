package dev.idaas;

import java.util.Map;

/**
 * A JWT authentication token's material (secrets; {@code toString()} hides them).
 *
 * @param jwtValue          the JWT
 * @param derivedShortToken the derived short token, or null
 */
public record JwtContent(String jwtValue, String derivedShortToken) {
    static JwtContent from(Map<String, Object> m) {
        return m == null ? null : new JwtContent(Json.str(m, "jwtValue"), Json.str(m, "derivedShortToken"));
    }

    @Override
    public String toString() {
        return "JwtContent[jwtValue=***, derivedShortToken=" + (derivedShortToken == null ? null : "***") + "]";
    }
}
