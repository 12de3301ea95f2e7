package dev.idaas;

/** Server replies ({@link ErrorClass#SERVER_REPLY}): another client-side rejection, a server failure or an unusable reply ({@link #isRetryable()} tells which may pass on a retry). */
public class IdaasServerException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasServerException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
