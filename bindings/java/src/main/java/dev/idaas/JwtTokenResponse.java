package dev.idaas;

import java.util.Map;

/** The result of {@link PamClient#generateJwt}: the new authentication token and its JWT. */
public record JwtTokenResponse(String authenticationTokenId, String consumerType, String consumerId,
                               JwtContent jwtContent) {
    static JwtTokenResponse from(Map<String, Object> m) {
        return new JwtTokenResponse(Json.str(m, "authenticationTokenId"), Json.str(m, "consumerType"),
                Json.str(m, "consumerId"), JwtContent.from(Json.obj(m, "jwtContent")));
    }
}
