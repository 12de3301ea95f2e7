package dev.idaas;

/** A connect or read timeout, or a deadline, expired ({@link ErrorCode#TIMEOUT}). */
public class IdaasTimeoutException extends IdaasNetworkException {
    private static final long serialVersionUID = 1L;

    IdaasTimeoutException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
