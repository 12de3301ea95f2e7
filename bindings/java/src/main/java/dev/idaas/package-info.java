/**
 * IDaaS machine credentials for Java: {@link dev.idaas.IdaasClient} (OAuth2 client authentication,
 * refresh-ahead token cache, token exchange) and {@link dev.idaas.PamClient} (IDaaS Developer API: API
 * keys, OAuth tokens, JWT authentication tokens), a JNI binding of the idaas C ABI.
 */
package dev.idaas;
