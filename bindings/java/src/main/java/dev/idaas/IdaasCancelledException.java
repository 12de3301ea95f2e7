package dev.idaas;

/** The call was cancelled (600). */
public class IdaasCancelledException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasCancelledException(int code, String kind, String message, int httpStatus, String serverCode, String requestId) {
        super(code, kind, message, httpStatus, serverCode, requestId);
    }
}
