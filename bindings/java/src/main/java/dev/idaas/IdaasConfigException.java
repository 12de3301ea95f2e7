package dev.idaas;

/** Configuration errors (2xx): missing, unreadable or invalid configuration. */
public class IdaasConfigException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasConfigException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
