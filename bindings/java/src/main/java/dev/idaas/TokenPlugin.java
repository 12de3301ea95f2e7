package dev.idaas;

/**
 * A PLUGIN token source ({@link Idaas#registerPlugin}): called when a client whose configuration says
 * {@code "authnMethod": "PLUGIN", "pluginName": <name>} needs a token, from any thread (native threads
 * are attached to the JVM), possibly concurrently; blocking is fine. A thrown exception becomes an
 * {@link IdaasCredentialException} (server code {@code PluginFailed}) carrying its message.
 *
 * <p>It must not call back into the client that invoked it (that client's token cache is waiting for
 * this result): fetch the token from elsewhere.
 */
@FunctionalInterface
public interface TokenPlugin {
    PluginToken getToken(String scope) throws Exception;
}
