package dev.idaas;

/** Argument errors ({@link ErrorClass#ARGUMENT}): null argument, invalid UTF-8, invalid argument or options. */
public class IdaasInvalidArgumentException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasInvalidArgumentException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
