package dev.idaas;

/**
 * A PLUGIN token source ({@link IdaasConfig#addPlugin}): called when a client whose configuration says
 * {@code "authnMethod": "PLUGIN", "pluginName": <name>} needs a token, from any thread (native threads
 * are attached to the JVM), possibly concurrently; blocking is fine. A thrown exception becomes an
 * {@link IdaasCredentialException} (server code {@code PluginFailed}) carrying its message. The
 * library holds the plugin while the config or a client made from it needs it, and releases it then.
 *
 * <p>It must not ask the client that invoked it for the token of the scope it is fetching (that
 * client's token cache is waiting for this result): such a call from the callback's thread fails at
 * once with {@link IdaasReentrantCallException}; from another thread it waits, and gives up with
 * {@link IdaasTimeoutException} after twice the call budget. Another scope of the same client, or
 * another client, is fine.
 */
@FunctionalInterface
public interface TokenPlugin {
    /** The token for {@code scope} (the scope string verbatim, already validated). */
    PluginToken getToken(String scope) throws Exception;
}
