package dev.idaas;

import java.lang.System.Logger.Level;

/**
 * Receives the library's log records ({@link IdaasConfig#setLogger}). Called from any thread, also the
 * library's background refresh thread, possibly concurrently. The library may hold internal locks
 * while it runs: return quickly. Exceptions it throws are ignored.
 */
@FunctionalInterface
public interface IdaasLogger {
    /**
     * One record.
     *
     * @param level   {@code ERROR} .. {@code TRACE}
     * @param target  the emitting module, e.g. {@code "idaas::cache"}
     * @param message the text (never a secret)
     */
    void log(Level level, String target, String message);

    /**
     * Forwards to {@link System.Logger}s named after the module ({@code idaas::cache} →
     * {@code "idaas.cache"}), as the process-wide forwarding of {@link Idaas#setLogLevel} does.
     */
    static IdaasLogger systemLoggers() {
        return Callbacks::toSystemLogger;
    }
}
