package dev.idaas;

/**
 * A {@link TokenPlugin} asked its own client for the token it is fetching (the same scope), from
 * inside {@link TokenPlugin#getToken}: that call would wait for itself forever, so it fails at once
 * ({@link ErrorCode#REENTRANT_CALL}). Ask another client, or the same client for another scope.
 */
public class IdaasReentrantCallException extends IdaasInvalidArgumentException {
    private static final long serialVersionUID = 1L;

    IdaasReentrantCallException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
