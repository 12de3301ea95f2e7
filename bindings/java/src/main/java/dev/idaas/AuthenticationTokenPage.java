package dev.idaas;

import java.util.List;
import java.util.Map;

/** One page of {@link PamClient#listTokens}; {@link #nextToken()} null or empty = the last page. */
public record AuthenticationTokenPage(List<AuthenticationToken> entities, Long totalCount, Long maxResults,
                                      String nextToken) {
    static AuthenticationTokenPage from(Map<String, Object> m) {
        return new AuthenticationTokenPage(Json.objs(m, "entities").stream().map(AuthenticationToken::from).toList(),
                Json.lng(m, "totalCount"), Json.lng(m, "maxResults"), Json.str(m, "nextToken"));
    }

    /** Whether another page follows. */
    public boolean hasNext() {
        return nextToken != null && !nextToken.isEmpty();
    }
}
