package dev.idaas;

/** Network errors (5xx): transport failures (500); timeouts are {@link IdaasTimeoutException}. Retryable. */
public class IdaasNetworkException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasNetworkException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
