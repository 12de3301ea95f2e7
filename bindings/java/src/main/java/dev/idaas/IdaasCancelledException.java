package dev.idaas;

/** The call was cancelled ({@link ErrorClass#CANCELLED}). */
public class IdaasCancelledException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasCancelledException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
