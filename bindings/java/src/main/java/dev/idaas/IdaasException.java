package dev.idaas;

import java.nio.charset.StandardCharsets;

/**
 * An error from the idaas library: the {@link #code() code} of {@code include/idaas.h} (grouped by
 * hundreds, see {@link ErrorCode}), the HTTP status of the server reply (0 = none), the server's or
 * catalogue's machine-readable code and the request id. Messages never contain a secret.
 *
 * <p>Subclasses by code group: {@link IdaasInvalidArgumentException} (1xx),
 * {@link IdaasConfigException} (2xx), {@link IdaasAuthException} (3xx, with
 * {@link IdaasCredentialException} for 300), {@link IdaasServerException} (4xx),
 * {@link IdaasNetworkException} (5xx, with {@link IdaasTimeoutException} for 501),
 * {@link IdaasCancelledException} (6xx), {@link IdaasInternalException} (9xx and unknown groups).
 */
public class IdaasException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int code;
    private final String kind;
    private final int httpStatus;
    private final String serverCode;
    private final String requestId;

    protected IdaasException(int code, String kind, String message, int httpStatus, String serverCode,
                             String requestId) {
        super(message);
        this.code = code;
        this.kind = kind;
        this.httpStatus = httpStatus;
        this.serverCode = serverCode;
        this.requestId = requestId;
    }

    /** The idaas_code (e.g. {@link ErrorCode#AUTH} = 301). */
    public int code() { return code; }

    /** The lower-case name of the code ({@code "auth"}, {@code "timeout"} ...). */
    public String kind() { return kind; }

    /** The HTTP status of the server reply that caused the error; 0 when no server answered. */
    public int httpStatus() { return httpStatus; }

    /** The server's {@code error}/{@code Code} or a catalogue code such as {@code InvalidScope}; null if none. */
    public String serverCode() { return serverCode; }

    /** The request id the server sent with the failed reply; null if none. */
    public String requestId() { return requestId; }

    /** Whether retrying may help: server errors (5xx), transport failures, timeouts, HTTP 429. */
    public boolean isRetryable() {
        return code == ErrorCode.SERVER_ERROR || code == ErrorCode.TRANSPORT || code == ErrorCode.TIMEOUT
               || httpStatus == 429;
    }

    /** Called by the JNI glue. */
    static IdaasException fromNative(int code, int httpStatus, byte[] kind, byte[] message, byte[] serverCode,
                                     byte[] requestId) {
        return of(code, str(kind), str(message), httpStatus, str(serverCode), str(requestId));
    }

    private static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static IdaasException of(int code, String kind, String message, int httpStatus, String serverCode,
                             String requestId) {
        if (kind == null) kind = "unknown";
        switch (code / 100) {
            case 1:
                return code == ErrorCode.REENTRANT_CALL
                        ? new IdaasReentrantCallException(code, kind, message, httpStatus, serverCode, requestId)
                        : new IdaasInvalidArgumentException(code, kind, message, httpStatus, serverCode, requestId);
            case 2: return new IdaasConfigException(code, kind, message, httpStatus, serverCode, requestId);
            case 3:
                return code == ErrorCode.CREDENTIAL
                        ? new IdaasCredentialException(code, kind, message, httpStatus, serverCode, requestId)
                        : new IdaasAuthException(code, kind, message, httpStatus, serverCode, requestId);
            case 4: return new IdaasServerException(code, kind, message, httpStatus, serverCode, requestId);
            case 5:
                return code == ErrorCode.TIMEOUT
                        ? new IdaasTimeoutException(code, kind, message, httpStatus, serverCode, requestId)
                        : new IdaasNetworkException(code, kind, message, httpStatus, serverCode, requestId);
            case 6: return new IdaasCancelledException(code, kind, message, httpStatus, serverCode, requestId);
            default: return new IdaasInternalException(code, kind, message, httpStatus, serverCode, requestId);
        }
    }
}
