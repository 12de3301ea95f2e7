package dev.idaas;

import java.lang.ref.Cleaner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * RFC 8693 token exchange with a client's authentication for one scope
 * ({@link IdaasClient#getExchangeProvider}); never cached. Thread-safe; {@link AutoCloseable}.
 */
public final class ExchangeProvider implements AutoCloseable {
    private final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;
    private final Executor executor;

    ExchangeProvider(long ptr, Executor executor) {
        this.handle = new NativeHandle(ptr, Native::exchangeProviderFree, "ExchangeProvider");
        this.cleanable = handle.register(this);
        this.executor = executor;
    }

    /** Exchanges {@code subjectToken} of type {@code subjectTokenType} for an access token. */
    public Credential exchange(String subjectToken, String subjectTokenType) {
        return exchange(subjectToken, subjectTokenType, null);
    }

    /** Exchanges {@code subjectToken}; {@code requestedTokenType} nullable (the access-token URN). */
    public Credential exchange(String subjectToken, String subjectTokenType, String requestedTokenType) {
        long p = handle.acquire();
        try {
            return JsonCodec.result(
                    Native.exchangeProviderExchange(p, subjectToken, subjectTokenType, requestedTokenType),
                    Credential.class);
        } finally {
            handle.release();
        }
    }

    /** {@link #exchange(String, String, String)} on the client's executor. */
    public CompletableFuture<Credential> exchangeAsync(String subjectToken, String subjectTokenType,
                                                       String requestedTokenType) {
        return CompletableFuture.supplyAsync(() -> exchange(subjectToken, subjectTokenType, requestedTokenType),
                executor);
    }

    @Override
    public void close() {
        cleanable.clean();
    }
}
