package dev.idaas;

import java.util.Map;

/** An OAuth access token held by IDaaS ({@code toString()} hides the token). */
public record OAuthAccessTokenContent(String accessTokenValue, String tokenType, String scope) {
    static OAuthAccessTokenContent from(Map<String, Object> m) {
        return m == null ? null : new OAuthAccessTokenContent(Json.str(m, "accessTokenValue"),
                Json.str(m, "tokenType"), Json.str(m, "scope"));
    }

    @Override
    public String toString() {
        return "OAuthAccessTokenContent[accessTokenValue=***, tokenType=" + tokenType + ", scope=" + scope + "]";
    }
}
