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

    static Level level(int abiLevel) {
        switch (abiLevel) {
            case 1: return Level.ERROR;
            case 2: return Level.WARNING;
            case 3: return Level.INFO;
            case 4: return Level.DEBUG;
            default: return Level.TRACE;
        }
    }

    /**
     * The log callback: {@code target} "idaas::cache" logs to the System.Logger "idaas.cache". The
     * library may hold internal locks while it runs: logger handlers must be quick and must not call
     * idaas functions (records logged meanwhile are dropped by the library).
     */
    static void log(int level, byte[] target, byte[] message) {
        try {
            String t = target == null ? "idaas" : new String(target, StandardCharsets.UTF_8).replace("::", ".");
            Logger logger = LOGGERS.computeIfAbsent(t, System::getLogger);
            Level l = level(level);
            if (logger.isLoggable(l)) logger.log(l, message == null ? "" : new String(message, StandardCharsets.UTF_8));
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
