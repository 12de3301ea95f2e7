package dev.idaas;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.util.function.LongConsumer;

/**
 * A native handle shared by a Java wrapper and its {@link Cleaner} action (which must not reference
 * the wrapper). Calls bracket their use of the pointer with {@link #acquire()} / {@link #release()}:
 * a reference count plus a closed bit in one long. {@link #close()} marks the handle closed; the
 * native {@code _free} runs exactly once, when the last in-flight call has released it - so closing
 * (or the cleaner) never races with a call on another thread.
 */
final class NativeHandle implements Runnable {
    static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "idaas-cleaner");
        t.setDaemon(true);
        return t;
    });
    private static final long CLOSED = Long.MIN_VALUE;
    /** Native frees performed (observability for tests). */
    static final java.util.concurrent.atomic.AtomicLong FREES = new java.util.concurrent.atomic.AtomicLong();
    private static final VarHandle STATE;
    private static final VarHandle FREED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(NativeHandle.class, "state", long.class);
            FREED = l.findVarHandle(NativeHandle.class, "freed", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long ptr;
    private final LongConsumer free;
    private final String what;
    @SuppressWarnings("unused")
    private volatile long state;
    @SuppressWarnings("unused")
    private volatile int freed;

    NativeHandle(long ptr, LongConsumer free, String what) {
        this.ptr = ptr;
        this.free = free;
        this.what = what;
    }

    /** Registers the cleaner backstop for {@code owner}. */
    Cleaner.Cleanable register(Object owner) {
        return CLEANER.register(owner, this);
    }

    /** Returns the pointer, counted as in use until {@link #release()}. */
    long acquire() {
        long s = (long) STATE.getAndAdd(this, 1L);
        if ((s & CLOSED) != 0) {
            release();
            throw new IllegalStateException(what + " is closed");
        }
        return ptr;
    }

    void release() {
        long s = (long) STATE.getAndAdd(this, -1L) - 1L;
        if (s == CLOSED) freeOnce();
    }

    boolean isClosed() {
        return (((long) STATE.getVolatile(this)) & CLOSED) != 0;
    }

    /** Marks closed; frees now if nothing is in flight, otherwise when the last call returns. */
    void close() {
        long s;
        do {
            s = (long) STATE.getVolatile(this);
            if ((s & CLOSED) != 0) return;
        } while (!STATE.compareAndSet(this, s, s | CLOSED));
        if ((s | CLOSED) == CLOSED) freeOnce();
    }

    /** The cleaner action. */
    @Override
    public void run() {
        close();
    }

    private void freeOnce() {
        if (FREED.compareAndSet(this, 0, 1)) {
            free.accept(ptr);
            FREES.incrementAndGet();
        }
    }
}
