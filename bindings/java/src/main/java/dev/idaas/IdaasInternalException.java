package dev.idaas;

/** A bug inside the library (9xx: internal error, caught panic, unsupported) or a code of an unknown group. */
public class IdaasInternalException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasInternalException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
