package dev.idaas;

/** Authentication errors ({@link ErrorClass#AUTHENTICATION}): a server refused authentication or authorization ({@link ErrorCode#AUTH}), or a local credential could not be produced ({@link IdaasCredentialException}). */
public class IdaasAuthException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasAuthException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
