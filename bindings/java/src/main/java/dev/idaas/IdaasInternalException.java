package dev.idaas;

/** A bug inside the library ({@link ErrorClass#INTERNAL}: internal error, caught panic, unsupported operation), or a code the library puts in no other class. */
public class IdaasInternalException extends IdaasException {
    private static final long serialVersionUID = 1L;

    IdaasInternalException(int code, ErrorClass errorClass, boolean retryable, String kind, String message, int httpStatus,
            String serverCode, String requestId) {
        super(code, errorClass, retryable, kind, message, httpStatus, serverCode, requestId);
    }
}
