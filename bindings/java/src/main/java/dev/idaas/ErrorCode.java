package dev.idaas;

/** The idaas_code values of include/idaas.h (grouped by hundreds; treat unknown codes by their group). */
public final class ErrorCode {
    private ErrorCode() {}

    public static final int OK = 0;
    public static final int NULL_ARGUMENT = 100;
    public static final int INVALID_UTF8 = 101;
    public static final int INVALID_ARGUMENT = 102;
    public static final int BUFFER_TOO_SMALL = 103;
    /** A plugin callback asked its own client for the token it is fetching (same scope). */
    public static final int REENTRANT_CALL = 104;
    public static final int CONFIG = 200;
    public static final int CREDENTIAL = 300;
    public static final int AUTH = 301;
    public static final int CLIENT_ERROR = 400;
    public static final int SERVER_ERROR = 401;
    public static final int UNEXPECTED_RESPONSE = 402;
    public static final int TRANSPORT = 500;
    public static final int TIMEOUT = 501;
    public static final int CANCELLED = 600;
    public static final int INTERNAL = 900;
    public static final int PANIC = 901;
    public static final int UNSUPPORTED = 902;

    /** The library's lower-case name of {@code code} ({@code "auth"}, {@code "unknown"} ...). */
    public static String name(int code) {
        return new String(Native.codeName(code), java.nio.charset.StandardCharsets.UTF_8);
    }
}
