package dev.idaas;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The emulator process shared by every test class of this JVM: IDAAS_EMULATOR_BIN (system property
 * idaas.emulator.bin, else the env var, else the workspace's debug build) started once with
 * --port 0 --ready-file, killed at exit (and tied to our stdin pipe with --exit-on-stdin-eof).
 */
final class Emulator {
    private static Emulator instance;

    final Process process;
    final Path dir;
    final JsonObject ready;
    final String httpBase;
    final String clientSecret;
    /** The CLIENT_SECRET_POST client config JSON (secret from IDAAS_CLIENT_SECRET). */
    final String configJson;
    /** The same, written to a file. */
    final Path configFile;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static synchronized Emulator get() throws Exception {
        if (instance == null) instance = new Emulator();
        return instance;
    }

    private Emulator() throws Exception {
        String bin = System.getProperty("idaas.emulator.bin");
        if (bin == null || bin.isBlank()) bin = System.getenv("IDAAS_EMULATOR_BIN");
        if (bin == null || bin.isBlank()) {
            // Plain `mvn test` (pom.xml profile native-build ran `make emulator`): the workspace's
            // debug build, where the Makefile puts it. Surefire runs in bindings/java.
            String targetDir = System.getenv("CARGO_TARGET_DIR");
            Path target = targetDir != null && !targetDir.isBlank() ? Path.of(targetDir) : Path.of("..", "..", "target");
            bin = target.resolve("debug").resolve("idaas-emulator").toAbsolutePath().normalize().toString();
        }
        if (bin == null || bin.isBlank() || !Files.isExecutable(Path.of(bin))) {
            throw new IllegalStateException("no emulator binary: set -Didaas.emulator.bin or IDAAS_EMULATOR_BIN (got "
                                            + bin + "); run `cargo build -p idaas-emulator`");
        }
        dir = Files.createTempDirectory("idaas-java-test-");
        Path readyFile = dir.resolve("ready.json");
        process = new ProcessBuilder(bin, "--port", "0", "--ready-file", readyFile.toString(), "--exit-on-stdin-eof")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("emulator.log").toFile())
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.exists(readyFile)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("emulator exited: " + Files.readString(dir.resolve("emulator.log")));
            }
            if (System.nanoTime() > deadline) throw new IllegalStateException("emulator not ready in 60 s");
            Thread.sleep(20);
        }
        ready = JsonParser.parseString(Files.readString(readyFile)).getAsJsonObject();
        httpBase = ready.get("httpBaseUrl").getAsString();
        clientSecret = ready.get("clientSecret").getAsString();
        String envSecret = System.getenv("IDAAS_CLIENT_SECRET");
        if (!clientSecret.equals(envSecret)) {
            throw new IllegalStateException("IDAAS_CLIENT_SECRET (set by surefire in pom.xml) does not match the"
                                            + " emulator's client secret: the emulator's default fixtures changed");
        }
        configJson = ready.getAsJsonObject("clientConfigs").getAsJsonObject("CLIENT_SECRET_POST").toString();
        configFile = dir.resolve("client-config.json");
        Files.writeString(configFile, configJson);
    }

    /** A client from configuration JSON text, with default options. */
    static IdaasClient client(String configJson) {
        try (IdaasConfig config = IdaasConfig.fromJson(configJson)) {
            return IdaasClient.builder(config).build();
        }
    }

    /** A client of the emulator's CLIENT_SECRET_POST configuration. */
    IdaasClient client() {
        return client(configJson);
    }

    /** The config with the secret variable renamed (e.g. to a variable holding a wrong secret). */
    String configWithSecretVar(String varName) {
        return configJson.replace("\"IDAAS_CLIENT_SECRET\"", "\"" + varName + "\"");
    }

    /** The config with extra httpConfiguration keys prepended (e.g. "\"readTimeout\":2000,"). */
    String configWithHttp(String extra) {
        String key = "\"httpConfiguration\":{";
        int i = configJson.indexOf(key);
        if (i < 0) throw new IllegalStateException("no httpConfiguration in " + configJson);
        i += key.length();
        return configJson.substring(0, i) + extra + configJson.substring(i);
    }

    int control(String method, String path, String body) throws IOException, InterruptedException {
        return controlResponse(method, path, body).statusCode();
    }

    /** A control-API call and its reply (e.g. GET /_emulator/requests, the request log). */
    HttpResponse<String> controlResponse(String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(httpBase + path)).timeout(Duration.ofSeconds(10));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    void addFault(String spec) throws Exception {
        int st = control("POST", "/_emulator/faults", "{\"spec\":\"" + spec + "\"}");
        if (st != 200) throw new IllegalStateException("fault " + spec + ": HTTP " + st);
    }

    void clearFaults() throws Exception {
        control("DELETE", "/_emulator/faults", null);
    }

    /** Plays the user: sets the status of the session named in a 3LO authorization URL. */
    void setSessionFromUrl(String authorizationUrl, String status) {
        try {
            String q = URI.create(authorizationUrl).getRawQuery();
            String id = null;
            for (String kv : q.split("&")) {
                if (kv.startsWith("session=")) id = URLDecoder.decode(kv.substring(8), StandardCharsets.UTF_8);
            }
            int st = control("POST", "/_emulator/sessions/" + id, "{\"status\":\"" + status + "\"}");
            if (st != 200) throw new IllegalStateException("session " + id + ": HTTP " + st);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
