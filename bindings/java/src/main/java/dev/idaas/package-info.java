/**
 * IDaaS machine credentials for Java, a JNI binding of the idaas C ABI. Start with
 * {@link dev.idaas.Idaas#init()}: it returns an {@link dev.idaas.IdaasClient} (OAuth2 client
 * authentication, refresh-ahead token cache, token exchange), from which
 * {@link dev.idaas.PamClient} (IDaaS Developer API: API keys, OAuth tokens, JWT authentication
 * tokens) is made. {@link dev.idaas.IdaasConfig} is the advanced start: token plugins, a logger of
 * the client's own, client options.
 */
package dev.idaas;
