package dev.idaas;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** Options of {@link PamClient#generateJwt}. Unset fields use the server's defaults. */
public final class JwtOptions {
    private String issuer;
    private Map<String, ?> customClaims;
    private Long expirationSecs;
    private Boolean includeDerivedShortToken;

    public static JwtOptions defaults() {
        return new JwtOptions();
    }

    public JwtOptions issuer(String issuer) { this.issuer = issuer; return this; }

    /** Extra claims: values are Strings, Numbers, Booleans, null, Maps and Lists of those. */
    public JwtOptions customClaims(Map<String, ?> claims) { this.customClaims = claims; return this; }

    /** The token's lifetime (whole seconds, > 0). */
    public JwtOptions expiration(Duration lifetime) { this.expirationSecs = lifetime.toSeconds(); return this; }

    /** Also return a derived short token. */
    public JwtOptions includeDerivedShortToken(boolean on) { this.includeDerivedShortToken = on; return this; }

    String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (issuer != null) m.put("issuer", issuer);
        if (customClaims != null) m.put("customClaims", customClaims);
        if (expirationSecs != null) m.put("expiration", expirationSecs);
        if (includeDerivedShortToken != null) m.put("includeDerivedShortToken", includeDerivedShortToken);
        return m.isEmpty() ? null : JsonCodec.write(m);
    }
}
