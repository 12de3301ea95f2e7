package dev.idaas;

import com.google.gson.JsonObject;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A child-JVM entry point for AlibabaPluginTest: the built-in PLUGIN alibabacloudPluginCredentialProvider
 * reads its credentials from the process environment when a client is made, and a JVM cannot change its
 * own environment, so each case runs here with the environment the test gives this process.
 *
 * <p>Arguments: the case ({@code builtin}: a client of the configuration as it is, its token and a PAM
 * API key; {@code registered}: the same configuration with an application plugin added under the
 * built-in's name) and the configuration JSON. Prints one line {@code RESULT <json>}: the API key, the
 * token's shape (not the token), or the error's class, code, server code, status, request id, retry
 * verdict and message.
 */
public final class AlibabaPluginProbe {
    static final String PLUGIN = "alibabacloudPluginCredentialProvider";

    public static void main(String[] args) {
        JsonObject out = new JsonObject();
        try (IdaasConfig config = IdaasConfig.fromJson(args[1])) {
            AtomicInteger pluginCalls = new AtomicInteger();
            if (args[0].equals("registered")) {
                config.addPlugin(PLUGIN, scope -> {
                    pluginCalls.incrementAndGet();
                    return new PluginToken("from-the-java-plugin", 3600);
                });
            }
            try (IdaasClient client = IdaasClient.builder(config).build()) {
                String token = client.getBearerToken();
                out.addProperty("tokenSegments", token.split("\\.", -1).length);
                if (token.equals("from-the-java-plugin")) out.addProperty("token", token);
                out.addProperty("pluginCalls", pluginCalls.get());
                if (args[0].equals("builtin")) {
                    try (PamClient pam = client.pamClient()) {
                        out.addProperty("apiKey", pam.getApiKey("openai_prod_key").orElse(null));
                    }
                }
            }
        } catch (IdaasException e) {
            JsonObject err = new JsonObject();
            err.addProperty("class", e.getClass().getSimpleName());
            err.addProperty("code", e.errorCode().name());
            err.addProperty("serverCode", e.serverCode());
            err.addProperty("httpStatus", e.httpStatus());
            err.addProperty("requestId", e.requestId());
            err.addProperty("retryable", e.isRetryable());
            err.addProperty("message", e.getMessage());
            out.add("error", err);
        }
        System.out.println("RESULT " + out);
    }
}
