package dev.idaas;

/**
 * What a {@link TokenPlugin} returns: the token for the requested scope and its lifetime in seconds
 * ({@code > 0}: cached and refreshed ahead of expiry; {@code 0}: unknown, the plugin is called on every use).
 */
public record PluginToken(String token, long expiresInSecs) {
    @Override
    public String toString() {
        return "PluginToken[token=***, expiresInSecs=" + expiresInSecs + "]";
    }
}
