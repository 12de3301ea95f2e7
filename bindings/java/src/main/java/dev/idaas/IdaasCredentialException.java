package dev.idaas;

/** A local credential could not be produced ({@link ErrorCode#CREDENTIAL}): missing secret environment variable, unreadable key, plugin failure. */
public class IdaasCredentialException extends IdaasAuthException {
    private static final long serialVersionUID = 1L;

    IdaasCredentialException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
