package dev.idaas;

/** Network errors ({@link ErrorClass#NETWORK}): transport failures; timeouts are {@link IdaasTimeoutException}. */
public class IdaasNetworkException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasNetworkException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
