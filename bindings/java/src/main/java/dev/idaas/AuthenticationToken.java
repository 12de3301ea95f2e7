package dev.idaas;

import java.util.Map;

/** An authentication token as listed by {@link PamClient#listTokens} (no token material). */
public record AuthenticationToken(String instanceId, String authenticationTokenId, String authenticationTokenType,
                                  String credentialProviderId, String creatorType, String creatorId,
                                  String consumerType, String consumerId, Boolean revoked, Long createTime,
                                  Long updateTime, Long expirationTime) {
    static AuthenticationToken from(Map<String, Object> m) {
        return new AuthenticationToken(Json.str(m, "instanceId"), Json.str(m, "authenticationTokenId"),
                Json.str(m, "authenticationTokenType"), Json.str(m, "credentialProviderId"),
                Json.str(m, "creatorType"), Json.str(m, "creatorId"), Json.str(m, "consumerType"),
                Json.str(m, "consumerId"), Json.bool(m, "revoked"), Json.lng(m, "createTime"),
                Json.lng(m, "updateTime"), Json.lng(m, "expirationTime"));
    }
}
