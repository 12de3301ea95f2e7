package dev.idaas;

import java.nio.charset.StandardCharsets;

/**
 * An error from the idaas library: its {@link #code() code} ({@link ErrorCode}), the library's
 * {@link #errorClass() class} of that code and {@link #isRetryable() retry verdict}, the HTTP status
 * of the server reply (0 = none), the server's or catalogue's machine-readable code and the request
 * id. Messages never contain a secret.
 *
 * <p>The subclass follows the class the library gives the code ({@code idaas_code_class}):
 * {@link IdaasInvalidArgumentException} ({@link ErrorClass#ARGUMENT}, with
 * {@link IdaasReentrantCallException} for {@link ErrorCode#REENTRANT_CALL}),
 * {@link IdaasConfigException} ({@link ErrorClass#CONFIG}), {@link IdaasAuthException}
 * ({@link ErrorClass#AUTHENTICATION}, with {@link IdaasCredentialException} for
 * {@link ErrorCode#CREDENTIAL}), {@link IdaasServerException} ({@link ErrorClass#SERVER_REPLY}),
 * {@link IdaasNetworkException} ({@link ErrorClass#NETWORK}, with {@link IdaasTimeoutException} for
 * {@link ErrorCode#TIMEOUT}), {@link IdaasCancelledException} ({@link ErrorClass#CANCELLED}),
 * {@link IdaasInternalException} ({@link ErrorClass#INTERNAL} and anything else).
 */
public class IdaasException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int code;
    private final ErrorClass errorClass;
    private final boolean retryable;
    private final String kind;
    private final int httpStatus;
    private final String serverCode;
    private final String requestId;

    protected IdaasException(int code, ErrorClass errorClass, boolean retryable, String kind, String message,
                             int httpStatus, String serverCode, String requestId) {
        super(message);
        this.code = code;
        this.errorClass = errorClass;
        this.retryable = retryable;
        this.kind = kind;
        this.httpStatus = httpStatus;
        this.serverCode = serverCode;
        this.requestId = requestId;
    }

    /** The numeric {@code idaas_code} (e.g. 301 for {@link ErrorCode#AUTH}). */
    public int code() { return code; }

    /** The code as an {@link ErrorCode}; null only for a code this version of the binding does not know. */
    public ErrorCode errorCode() { return ErrorCode.fromValue(code); }

    /** The library's class of the code ({@code idaas_code_class}); never null. */
    public ErrorClass errorClass() { return errorClass; }

    /** The lower-case name of the code ({@code "auth"}, {@code "timeout"} ...). */
    public String kind() { return kind; }

    /** The HTTP status of the server reply that caused the error; 0 when no server answered. */
    public int httpStatus() { return httpStatus; }

    /** The server's {@code error}/{@code Code} or a catalogue code such as {@code InvalidScope}; null if none. */
    public String serverCode() { return serverCode; }

    /** The request id the server sent with the failed reply; null if none. */
    public String requestId() { return requestId; }

    /**
     * Whether trying again may succeed — the library's verdict ({@code idaas_error_is_retryable}: a
     * server failure, HTTP 429, a transport failure or a timeout), after it has already retried within
     * its call budget.
     */
    public boolean isRetryable() { return retryable; }

    /** Called by the JNI glue: {@code cls} is {@code idaas_code_class(code)}. */
    static IdaasException fromNative(int code, int cls, boolean retryable, int httpStatus, byte[] kind,
                                     byte[] message, byte[] serverCode, byte[] requestId) {
        return of(code, ErrorClass.fromValue(cls), retryable, str(kind), str(message), httpStatus, str(serverCode),
                str(requestId));
    }

    /** An internal error noticed on the Java side (e.g. a result that does not fit its record). */
    static IdaasException internal(String message) {
        int code = ErrorCode.INTERNAL.value();
        return of(code, ErrorClass.fromValue(Native.codeClass(code)), false,
                new String(Native.codeName(code), StandardCharsets.UTF_8), message, 0, null, null);
    }

    private static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static IdaasException of(int code, ErrorClass cls, boolean retryable, String kind, String message,
                             int httpStatus, String serverCode, String requestId) {
        if (kind == null) kind = "unknown";
        ErrorClass c = cls == null ? ErrorClass.INTERNAL : cls;
        ErrorCode known = ErrorCode.fromValue(code);
        switch (c) {
            case ARGUMENT:
                return known == ErrorCode.REENTRANT_CALL
                        ? new IdaasReentrantCallException(code, c, retryable, kind, message, httpStatus, serverCode, requestId)
                        : new IdaasInvalidArgumentException(code, c, retryable, kind, message, httpStatus, serverCode, requestId);
            case CONFIG:
                return new IdaasConfigException(code, c, retryable, kind, message, httpStatus, serverCode, requestId);
            case AUTHENTICATION:
                return known == ErrorCode.CREDENTIAL
                        ? new IdaasCredentialException(code, c, retryable, kind, message, httpStatus, serverCode, requestId)
                        : new IdaasAuthException(code, c, retryable, kind, message, httpStatus, serverCode, requestId);
            case SERVER_REPLY:
                return new IdaasServerException(code, c, retryable, kind, message, httpStatus, serverCode, requestId);
            case NETWORK:
                return known == ErrorCode.TIMEOUT
                        ? new IdaasTimeoutException(code, c, retryable, kind, message, httpStatus, serverCode, requestId)
                        : new IdaasNetworkException(code, c, retryable, kind, message, httpStatus, serverCode, requestId);
            case CANCELLED:
                return new IdaasCancelledException(code, c, retryable, kind, message, httpStatus, serverCode, requestId);
            default:
                return new IdaasInternalException(code, c, retryable, kind, message, httpStatus, serverCode, requestId);
        }
    }
}
