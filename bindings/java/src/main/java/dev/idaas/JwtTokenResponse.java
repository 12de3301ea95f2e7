package dev.idaas;

import java.util.Map;

/**
 * The result of {@link PamClient#generateJwt}: the new authentication token's fields (as listed by
 * {@link PamClient#listTokens}) plus its JWT material ({@link #jwtContent()}, secrets). Times are
 * epoch milliseconds.
 */
public record JwtTokenResponse(String instanceId, String authenticationTokenId, String authenticationTokenType,
                               String credentialProviderId, String creatorType, String creatorId,
                               String consumerType, String consumerId, Boolean revoked, Long createTime,
                               Long updateTime, Long expirationTime, JwtContent jwtContent) {
    static JwtTokenResponse from(Map<String, Object> m) {
        AuthenticationToken t = AuthenticationToken.from(m);
        return new JwtTokenResponse(t.instanceId(), t.authenticationTokenId(), t.authenticationTokenType(),
                t.credentialProviderId(), t.creatorType(), t.creatorId(), t.consumerType(), t.consumerId(),
                t.revoked(), t.createTime(), t.updateTime(), t.expirationTime(),
                JwtContent.from(Json.obj(m, "jwtContent")));
    }

    /** The token's fields without the JWT material. */
    public AuthenticationToken token() {
        return new AuthenticationToken(instanceId, authenticationTokenId, authenticationTokenType,
                credentialProviderId, creatorType, creatorId, consumerType, consumerId, revoked, createTime,
                updateTime, expirationTime);
    }
}
