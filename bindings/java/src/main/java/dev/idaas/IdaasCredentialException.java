package dev.idaas;

/** A local credential could not be produced (300): missing secret environment variable, unreadable key, plugin failure. */
public class IdaasCredentialException extends IdaasAuthException {
    private static final long serialVersionUID = 1L;

    IdaasCredentialException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
