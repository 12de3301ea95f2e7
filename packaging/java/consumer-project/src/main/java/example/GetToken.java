package example;

import dev.idaas.Idaas;
import dev.idaas.IdaasClient;

/** The quick start: the client of the default configuration, then (a redacted form of) a bearer token. */
public final class GetToken {
    public static void main(String[] args) {
        try (IdaasClient client = Idaas.init()) {   // CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json
            String token = client.getBearerToken();
            System.out.printf("idaas %s: token for the default scope: %.12s... (%d bytes)%n",
                    Idaas.version(), token, token.length());
            System.out.println("native library: " + Idaas.nativeLibraryLocation());
        }
    }
}
