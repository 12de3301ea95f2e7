package dev.idaas;

import java.util.Map;

/**
 * {@code OAuthAuthorizationSessionResponse} ({@link PamClient#getOAuthSession}): {@code sessionStatus}
 * is {@code pending}, {@code callback_received}, {@code completed}, {@code failed} or {@code expired}.
 */
public record OAuthSessionResponse(String instanceId, String sessionId, String sessionUri, String sessionStatus,
                                   String credentialProviderIdentifier, String consumerType, String consumerId,
                                   String creatorType, String creatorId, String authorizationUrl,
                                   Long expirationTime, String authenticationTokenId, String errorCode,
                                   String errorDescription) {
    static OAuthSessionResponse from(Map<String, Object> m) {
        return new OAuthSessionResponse(Json.str(m, "instanceId"), Json.str(m, "sessionId"),
                Json.str(m, "sessionUri"), Json.str(m, "sessionStatus"), Json.str(m, "credentialProviderIdentifier"),
                Json.str(m, "consumerType"), Json.str(m, "consumerId"), Json.str(m, "creatorType"),
                Json.str(m, "creatorId"), Json.str(m, "authorizationUrl"), Json.lng(m, "expirationTime"),
                Json.str(m, "authenticationTokenId"), Json.str(m, "errorCode"), Json.str(m, "errorDescription"));
    }
}
