package dev.idaas;

/** A connect or read timeout, or a deadline, expired (501). */
public class IdaasTimeoutException extends IdaasNetworkException {
    private static final long serialVersionUID = 1L;

    IdaasTimeoutException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
