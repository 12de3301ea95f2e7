package dev.idaas;

/** Authentication errors (3xx): a server refused authentication or authorization (301), or a local credential could not be produced (300, {@link IdaasCredentialException}). */
public class IdaasAuthException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasAuthException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
