package dev.idaas;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** Up-calls from the JNI glue. Never throws back into native code. */
final class Callbacks {
    private Callbacks() {}

    private static final ConcurrentHashMap<String, Logger> LOGGERS = new ConcurrentHashMap<>();
    /** The exception thrown by the last on-URL consumer of this thread (reported as the cause). */
    static final ThreadLocal<Throwable> URL_FAILURE = new ThreadLocal<>();

    /** An {@code IDAAS_LOG_LEVEL_*} value as a {@link Level}. */
    static Level level(int abiLevel) {
        switch (abiLevel) {
            case 1: return Level.ERROR;
            case 2: return Level.WARNING;
            case 3: return Level.INFO;
            case 4: return Level.DEBUG;
            default: return Level.TRACE;
        }
    }

    /** A {@link Level} as the most verbose {@code IDAAS_LOG_LEVEL_*} to deliver ({@code OFF}: none). */
    static int abiLevel(Level level) {
        return switch (level) {
            case OFF -> 0;
            case ERROR -> 1;
            case WARNING -> 2;
            case INFO -> 3;
            case DEBUG -> 4;
            case TRACE, ALL -> 5;
        };
    }

    /** The System.Logger forwarding: target "idaas::cache" logs to the System.Logger "idaas.cache". */
    static void toSystemLogger(Level level, String target, String message) {
        Logger logger = LOGGERS.computeIfAbsent(target == null ? "idaas" : target.replace("::", "."), System::getLogger);
        if (logger.isLoggable(level)) logger.log(level, message == null ? "" : message);
    }

    /**
     * The log callback: {@code logger} is the config's {@link IdaasLogger}, or null for the process-wide
     * callback (forwarded to System.Logger). Records logged meanwhile by the library are dropped.
     */
    static void log(Object logger, int level, byte[] target, byte[] message) {
        try {
            String t = target == null ? null : new String(target, StandardCharsets.UTF_8);
            String m = message == null ? "" : new String(message, StandardCharsets.UTF_8);
            if (logger == null) toSystemLogger(level(level), t, m);
            else ((IdaasLogger) logger).log(level(level), t, m);
        } catch (Throwable ignored) {
            // never unwind into the library
        }
    }

    /** The PLUGIN callback: a {@link PluginToken}, or a String (the error message). */
    static Object plugin(Object plugin, byte[] scope) {
        try {
            PluginToken t = ((TokenPlugin) plugin).getToken(new String(scope, StandardCharsets.UTF_8));
            if (t == null || t.token() == null) return "the plugin returned no token";
            return t;
        } catch (Throwable e) {
            String m = e.getMessage();
            return "plugin threw " + e.getClass().getName() + (m == null ? "" : ": " + m);
        }
    }

    /** The 3LO authorization-URL callback: 0 = continue polling, 1 = abort (the consumer threw). */
    @SuppressWarnings("unchecked")
    static int onUrl(Object consumer, byte[] url) {
        try {
            ((Consumer<String>) consumer).accept(new String(url, StandardCharsets.UTF_8));
            return 0;
        } catch (Throwable e) {
            URL_FAILURE.set(e);
            return 1;
        }
    }
}
