package dev.idaas;

import java.util.Map;

/** A pending 3LO authorization: show {@code authorizationUrl} to the user. */
public record OAuthAuthorizationSession(String sessionId, String sessionUri, String authorizationUrl,
                                        String sessionStatus) {
    static OAuthAuthorizationSession from(Map<String, Object> m) {
        return m == null ? null : new OAuthAuthorizationSession(Json.str(m, "sessionId"), Json.str(m, "sessionUri"),
                Json.str(m, "authorizationUrl"), Json.str(m, "sessionStatus"));
    }
}
