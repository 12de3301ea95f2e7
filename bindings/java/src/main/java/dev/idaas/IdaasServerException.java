package dev.idaas;

/** Server replies (4xx): another client-side rejection (400), a server failure (401, retryable) or an unusable reply (402). */
public class IdaasServerException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasServerException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
