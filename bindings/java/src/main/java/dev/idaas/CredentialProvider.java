package dev.idaas;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A bearer-token source ({@code idaas_provider}): bound to a client scope
 * ({@link IdaasClient#getProvider}, cached and refreshed) or static ({@link #ofStatic},
 * {@link #fromCredential}: one token forever, e.g. a token-exchange result for the PAM client).
 * Thread-safe; {@link AutoCloseable} with a cleaner backstop.
 */
public final class CredentialProvider implements AutoCloseable {
    final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;

    CredentialProvider(long ptr) {
        this.handle = new NativeHandle(ptr, Native::providerFree, "CredentialProvider");
        this.cleanable = handle.register(this);
    }

    /** A static provider returning {@code accessToken} forever; {@code expiresAtEpochSecs} (0 = unknown) is informational. */
    public static CredentialProvider ofStatic(String accessToken, long expiresAtEpochSecs) {
        Idaas.load();
        return new CredentialProvider(Native.providerNewStatic(accessToken, expiresAtEpochSecs));
    }

    /** A static provider from a token-exchange result. */
    public static CredentialProvider fromCredential(Credential credential) {
        Idaas.load();
        return new CredentialProvider(Native.providerNewFromCredentialJson(JsonCodec.credential(credential)));
    }

    /** A static provider from credential JSON ({@code access_token} required). */
    public static CredentialProvider fromCredentialJson(String credentialJson) {
        Idaas.load();
        return new CredentialProvider(Native.providerNewFromCredentialJson(credentialJson));
    }

    /** The current bearer token (cached providers refresh as needed). */
    public String getToken() {
        long p = handle.acquire();
        try {
            byte[] buf = IdaasClient.TOKEN_BUFFER.get();
            int n = Native.providerGetTokenInto(p, buf);
            while (n < 0) { // bigger than the buffer: retry with room for it
                buf = new byte[-n + 256];
                IdaasClient.TOKEN_BUFFER.set(buf);
                n = Native.providerGetTokenInto(p, buf);
            }
            String token = new String(buf, 0, n, StandardCharsets.UTF_8);
            Arrays.fill(buf, 0, n, (byte) 0);
            return token;
        } finally {
            handle.release();
        }
    }

    @Override
    public void close() {
        cleanable.clean();
    }
}
