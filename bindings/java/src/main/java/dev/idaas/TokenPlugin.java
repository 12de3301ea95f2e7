package dev.idaas;

/**
 * A PLUGIN token source ({@link Idaas#registerPlugin}): called when a client whose configuration says
 * {@code "authnMethod": "PLUGIN", "pluginName": <name>} needs a token, from any thread (native threads
 * are attached to the JVM), possibly concurrently; blocking is fine. A thrown exception becomes an
 * {@link IdaasCredentialException} (server code {@code PluginFailed}) carrying its message.
 *
 * <p>It must not ask the client that invoked it for the token of the scope it is fetching (that
 * client's token cache is waiting for this result): such a synchronous call from the callback fails at
 * once with {@link IdaasReentrantCallException}; a call handed to another thread is not detected and
 * waits forever. Another scope of the same client, or another client, is fine.
 */
@FunctionalInterface
public interface TokenPlugin {
    PluginToken getToken(String scope) throws Exception;
}
