package dev.idaas;

/** Argument errors (1xx): null argument, invalid UTF-8, invalid argument or options. */
public class IdaasInvalidArgumentException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasInvalidArgumentException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
