package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in PLUGIN alibabacloudPluginCredentialProvider through the Java binding: the emulator's
 * PLUGIN configuration, used as it is (no plugin added, no extra code), gets its token from the
 * emulator's EIAM OpenAPI (GenerateOauthToken); then the documented errors (alibaba-plugin.md §7.1) and
 * the precedence of a plugin added under the same name (D-44).
 *
 * <p>The credential chain reads the process environment when a client is made (§2.1) and a JVM cannot
 * set its own, so the cases that depend on it run in a child JVM ({@link AlibabaPluginProbe}) started
 * with exactly the variables of the case: the emulator's {@code alibabaCloud.environment} (with changes),
 * no other {@code ALIBABA_CLOUD_*} variable, and an empty HOME so that no profile file of the machine is
 * read. The checks on what the emulator received are made here.
 */
class AlibabaPluginTest {
    static final String PLUGIN = AlibabaPluginProbe.PLUGIN;
    static final String KEY = "sk-EXAMPLE0123456789abcdef";
    static Emulator em;
    static String config;
    static Map<String, String> emulatorEnv = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        em = Emulator.get();
        config = em.ready.getAsJsonObject("clientConfigs").getAsJsonObject("PLUGIN").toString();
        for (Map.Entry<String, JsonElement> e : em.ready.getAsJsonObject("alibabaCloud").getAsJsonObject("environment").entrySet()) {
            emulatorEnv.put(e.getKey(), e.getValue().getAsString());
        }
        assertNotNull(emulatorEnv.get("ALIBABA_CLOUD_ACCESS_KEY_ID"), emulatorEnv.keySet().toString());
        assertNotNull(emulatorEnv.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), emulatorEnv.keySet().toString());
    }

    static boolean isChainVar(String name) {
        return name.startsWith("ALIBABA_CLOUD_") || name.startsWith("IDAAS_ALIBABA_CLOUD_");
    }

    /**
     * Runs {@code AlibabaPluginProbe <kind> <config>} in a child JVM whose environment has the
     * emulator's variables with {@code replace} applied (a null value removes one) and HOME = {@code home};
     * returns its result object.
     */
    static JsonObject probe(String kind, Path home, Map<String, String> replace) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                // the library this JVM loaded: no second extraction
                "-Didaas.native.path=" + Idaas.nativeLibraryLocation(),
                "dev.idaas.AlibabaPluginProbe", kind, config));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(AlibabaPluginTest::isChainVar);
        env.putAll(emulatorEnv);
        replace.forEach((k, v) -> {
            if (v == null) env.remove(k);
            else env.put(k, v);
        });
        env.put("HOME", home.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe did not finish");
        assertEquals(0, p.exitValue(), out);
        String line = out.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow(
                () -> new AssertionError("no RESULT line from the probe: " + out));
        return JsonParser.parseString(line.substring("RESULT ".length())).getAsJsonObject();
    }

    /** The x-acs-credentials-provider of every GenerateOauthToken request since the log was cleared. */
    static List<String> openApiCalls() throws Exception {
        var r = em.controlResponse("GET", "/_emulator/requests", null);
        assertEquals(200, r.statusCode());
        List<String> calls = new ArrayList<>();
        for (JsonElement req : JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("requests")) {
            String action = null, provider = null;
            for (JsonElement h : req.getAsJsonObject().getAsJsonArray("headers")) {
                String name = h.getAsJsonArray().get(0).getAsString();
                if (name.equals("x-acs-action")) action = h.getAsJsonArray().get(1).getAsString();
                if (name.equals("x-acs-credentials-provider")) provider = h.getAsJsonArray().get(1).getAsString();
            }
            if ("GenerateOauthToken".equals(action)) calls.add(provider);
        }
        return calls;
    }

    static void clearRequests() throws Exception {
        assertEquals(200, em.control("DELETE", "/_emulator/requests", null));
    }

    static JsonObject error(JsonObject result) {
        assertTrue(result.has("error"), "expected an error, got " + result.keySet());
        return result.getAsJsonObject("error");
    }

    @Test
    void environmentKeyGivesATokenAndPamWorks(@TempDir Path home) throws Exception {
        clearRequests();
        JsonObject r = probe("builtin", home, Map.of());
        assertFalse(r.has("error"), () -> r.getAsJsonObject("error").get("message").getAsString());
        assertEquals(3, r.get("tokenSegments").getAsInt(), "the emulator issues JWTs");
        assertEquals(KEY, r.get("apiKey").getAsString());
        // One OpenAPI call, signed with the environment's key; PAM used the cached token.
        assertEquals(List.of("default/env"), openApiCalls());
    }

    @Test
    void wrongSecretIsSignatureDoesNotMatch(@TempDir Path home) throws Exception {
        String wrong = "wrong-alibaba-secret-from-the-java-test";
        clearRequests();
        JsonObject e = error(probe("builtin", home, Map.of("ALIBABA_CLOUD_ACCESS_KEY_SECRET", wrong)));
        assertEquals("IdaasAuthException", e.get("class").getAsString());
        assertEquals(ErrorCode.AUTH.name(), e.get("code").getAsString());
        assertEquals("SignatureDoesNotMatch", e.get("serverCode").getAsString());
        assertEquals(400, e.get("httpStatus").getAsInt());
        assertFalse(e.get("requestId").isJsonNull());
        assertFalse(e.get("retryable").getAsBoolean());
        String message = e.get("message").getAsString();
        assertFalse(message.contains(wrong), "the wrong secret is in the message");
        assertFalse(message.contains(emulatorEnv.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET")), "the secret is in the message");
        assertEquals(1, openApiCalls().size(), "a refused key is not retried");
    }

    @Test
    void noCredentialsNamesEverySource(@TempDir Path home) throws Exception {
        clearRequests();
        Map<String, String> replace = new HashMap<>();
        replace.put("ALIBABA_CLOUD_ACCESS_KEY_ID", null);
        replace.put("ALIBABA_CLOUD_ACCESS_KEY_SECRET", null);
        replace.put("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
        JsonObject e = error(probe("builtin", home, replace));
        assertEquals("IdaasCredentialException", e.get("class").getAsString());
        assertEquals(ErrorCode.CREDENTIAL.name(), e.get("code").getAsString());
        assertEquals("AlibabaCloudCredentialsNotFound", e.get("serverCode").getAsString());
        assertEquals(0, e.get("httpStatus").getAsInt());
        String message = e.get("message").getAsString();
        for (String want : List.of("default/env", "ALIBABA_CLOUD_ACCESS_KEY_ID", "default/oidc_role_arn",
                "default/cli_profile", "default/profile", home.toString(), "default/ecs_ram_role",
                "ALIBABA_CLOUD_ECS_METADATA_DISABLED", "default/credential_uri")) {
            assertTrue(message.contains(want), want + " not in: " + message);
        }
        assertEquals(List.of(), openApiCalls());
    }

    /** No environment needed: the configuration is refused when the client is made, in this JVM. */
    @Test
    void missingOpenApiEndpointIsAConfigError() {
        JsonObject c = JsonParser.parseString(config).getAsJsonObject();
        assertNotNull(c.remove("openApiEndpoint"));
        try (IdaasConfig cfg = IdaasConfig.fromJson(c.toString())) {
            IdaasConfigException e = assertThrows(IdaasConfigException.class, () -> IdaasClient.builder(cfg).build());
            assertEquals(ErrorCode.CONFIG, e.errorCode());
            assertEquals("OpenApiEndpointNotFound", e.serverCode());
            assertTrue(e.getMessage().contains(PLUGIN), e.getMessage());
        }
    }

    @Test
    void aPluginAddedUnderTheSameNameWins(@TempDir Path home) throws Exception {
        clearRequests();
        // The environment's key would work: the added plugin is chosen, not tried first.
        JsonObject r = probe("registered", home, Map.of());
        assertFalse(r.has("error"), () -> r.getAsJsonObject("error").get("message").getAsString());
        assertEquals("from-the-java-plugin", r.get("token").getAsString());
        assertEquals(1, r.get("pluginCalls").getAsInt());
        assertEquals(List.of(), openApiCalls());
    }
}
