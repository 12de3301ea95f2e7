package dev.idaas;

import java.util.LinkedHashMap;
import java.util.Map;

/** Filters and paging of {@link PamClient#listTokens} / {@link PamClient#listAllTokens}. */
public final class ListTokensOptions {
    private Integer maxResults;
    private Boolean revoked;
    private Boolean expired;
    private String nextToken;

    public static ListTokensOptions defaults() {
        return new ListTokensOptions();
    }

    /** Page size (> 0). */
    public ListTokensOptions maxResults(int n) { this.maxResults = n; return this; }

    /** Only revoked (true) or only non-revoked (false) tokens. */
    public ListTokensOptions revoked(boolean on) { this.revoked = on; return this; }

    /** Only expired (true) or only unexpired (false) tokens. */
    public ListTokensOptions expired(boolean on) { this.expired = on; return this; }

    /** The page after the one that returned this {@code nextToken}. */
    public ListTokensOptions nextToken(String token) { this.nextToken = token; return this; }

    ListTokensOptions copyWithNextToken(String token) {
        ListTokensOptions o = new ListTokensOptions();
        o.maxResults = maxResults;
        o.revoked = revoked;
        o.expired = expired;
        o.nextToken = token;
        return o;
    }

    String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (nextToken != null) m.put("nextToken", nextToken);
        if (maxResults != null) m.put("maxResults", maxResults);
        if (revoked != null) m.put("revoked", revoked);
        if (expired != null) m.put("expired", expired);
        return m.isEmpty() ? null : JsonCodec.write(m);
    }
}
