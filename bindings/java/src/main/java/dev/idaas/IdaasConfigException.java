package dev.idaas;

/** Configuration errors ({@link ErrorClass#CONFIG}): missing, unreadable or invalid configuration. */
public class IdaasConfigException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasConfigException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
