import dev.idaas.Idaas;
import dev.idaas.IdaasClient;
import dev.idaas.IdaasException;
import dev.idaas.JwtOptions;
import dev.idaas.JwtTokenResponse;
import dev.idaas.PamClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * jwt_lifecycle (the Java twin of examples/c/jwt_lifecycle.c): a bearer token, an API key, then a JWT
 * authentication token: generate → validate → revoke → validate → reinstate → validate.
 *
 *   java -cp idaas.jar:gson.jar JwtLifecycle.java [CONFIG_JSON_PATH [CREDENTIAL_PROVIDER [SUBJECT [AUDIENCE]]]]
 *
 * Without CONFIG_JSON_PATH (or with "-"), Idaas.init() finds the configuration:
 * CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json. Defaults match the emulator:
 * partner_jwt, billing-agent, https://api.partner.example.
 */
public class JwtLifecycle {
    public static void main(String[] args) {
        boolean lookup = args.length == 0 || args[0].equals("-");
        String provider = args.length > 1 ? args[1] : "partner_jwt";
        String subject = args.length > 2 ? args[2] : "billing-agent";
        String audience = args.length > 3 ? args[3] : "https://api.partner.example";

        try (IdaasClient client = lookup ? Idaas.init() : Idaas.init(Path.of(args[0]));
             PamClient pam = client.pamClient()) {
            String bearer = client.getBearerToken();
            System.out.printf("bearer token: %.12s... (%d chars)%n", bearer, bearer.length());
            System.out.println("API key of openai_prod_key: "
                               + pam.getApiKey("openai_prod_key").map(k -> k.substring(0, 6) + "...").orElse("(none)"));

            JwtTokenResponse g = pam.generateJwt(provider, subject, List.of(audience), JwtOptions.defaults()
                    .expiration(Duration.ofSeconds(900)).includeDerivedShortToken(true)
                    .customClaims(Map.of("tenant", "acme")));
            String jwt = g.jwtContent().jwtValue();
            System.out.printf("generated %s: %.16s... (%d chars)%n", g.authenticationTokenId(), jwt, jwt.length());

            show(pam, jwt, "after generate:");
            pam.revokeToken(jwt);
            show(pam, jwt, "after revoke:");
            pam.reinstateToken(jwt);
            show(pam, jwt, "after reinstate:");
        } catch (IdaasException e) {
            System.err.printf("failed: [%s] %s%n", e.kind(), e.getMessage());
            System.exit(Math.max(1, e.errorClass().value())); // 1 argument, 2 config, 3 authentication ...
        }
    }

    static void show(PamClient pam, String jwt, String step) {
        System.out.printf("%-22s active=%s%n", step, pam.validateToken(jwt));
    }
}
