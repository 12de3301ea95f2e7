package dev.idaas;

import java.lang.ref.Cleaner;

/**
 * Cancels a blocking call such as {@link PamClient#pollOAuthToken} from any thread ({@code idaas_cancel}):
 * the call returns {@link IdaasCancelledException} promptly. Once cancelled it stays cancelled; use a
 * new token per operation. Closing it while a call uses it is safe (freed when the call returns).
 */
public final class CancellationToken implements AutoCloseable {
    final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;

    public CancellationToken() {
        Idaas.load();
        this.handle = new NativeHandle(Native.cancelNew(), Native::cancelFree, "CancellationToken");
        this.cleanable = handle.register(this);
    }

    /** Cancels (idempotent; a no-op once closed). */
    public void cancel() {
        long p;
        try {
            p = handle.acquire();
        } catch (IllegalStateException closed) {
            return;
        }
        try {
            Native.cancelCancel(p);
        } finally {
            handle.release();
        }
    }

    public boolean isCancelled() {
        long p = handle.acquire();
        try {
            return Native.cancelIsCancelled(p);
        } finally {
            handle.release();
        }
    }

    @Override
    public void close() {
        cleanable.clean();
    }
}
