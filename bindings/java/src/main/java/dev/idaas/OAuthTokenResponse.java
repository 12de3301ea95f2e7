package dev.idaas;

import java.util.Map;

/**
 * {@code OAuthAuthenticationTokenResponse} (fetch v2, poll): either {@link #oauthAccessTokenContent()}
 * (the token) or {@link #oauthAuthorizationSession()} (user authorization needed). Times are epoch
 * milliseconds.
 */
public record OAuthTokenResponse(String instanceId, String authenticationTokenId, String credentialProviderId,
                                 String authenticationTokenType, Boolean revoked, String creatorType,
                                 String creatorId, String consumerType, String consumerId, Long createTime,
                                 Long updateTime, Long expirationTime,
                                 OAuthAccessTokenContent oauthAccessTokenContent,
                                 OAuthAuthorizationSession oauthAuthorizationSession) {
    static OAuthTokenResponse from(Map<String, Object> m) {
        return new OAuthTokenResponse(Json.str(m, "instanceId"), Json.str(m, "authenticationTokenId"),
                Json.str(m, "credentialProviderId"), Json.str(m, "authenticationTokenType"), Json.bool(m, "revoked"),
                Json.str(m, "creatorType"), Json.str(m, "creatorId"), Json.str(m, "consumerType"),
                Json.str(m, "consumerId"), Json.lng(m, "createTime"), Json.lng(m, "updateTime"),
                Json.lng(m, "expirationTime"), OAuthAccessTokenContent.from(Json.obj(m, "oauthAccessTokenContent")),
                OAuthAuthorizationSession.from(Json.obj(m, "oauthAuthorizationSession")));
    }

    /** The access token, or null when user authorization is needed. */
    public String accessToken() {
        return oauthAccessTokenContent == null ? null : oauthAccessTokenContent.accessTokenValue();
    }
}
