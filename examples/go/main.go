// jwt_lifecycle (Go): the scenario of examples/c/jwt_lifecycle.c through the Go binding — a
// bearer token, an API key, then a JWT authentication token generated, validated, revoked,
// validated, reinstated and validated again (IDaaS Developer API).
//
//	go run . [-config CONFIG_JSON_PATH] [-provider partner_jwt] [-subject billing-agent]
//	         [-audience https://api.partner.example] [-credential openai_prod_key]
//
// Without -config the default lookup applies (CLOUD_IDAAS_CONFIG_PATH, else
// ~/.cloud_idaas/client-config.json). The defaults match the emulator (idaas-emulator); the
// client secret is read from the environment variable the configuration names. Secrets are never
// printed in full. Exit status: 0 on success, else the error's class (Code.Class: 2 config, 3 auth ...).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	idaas "github.com/idaas-sdk/idaas/bindings/go"
)

func main() {
	config := flag.String("config", "", "client configuration file (default: the default lookup)")
	provider := flag.String("provider", "partner_jwt", "JWT credential provider")
	subject := flag.String("subject", "billing-agent", "JWT subject")
	audience := flag.String("audience", "https://api.partner.example", "JWT audience")
	credential := flag.String("credential", "openai_prod_key", "API-key credential")
	verbose := flag.Bool("v", false, "log the library's messages (slog, debug level)")
	flag.Parse()
	if *verbose {
		idaas.SetLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, *config, *provider, *subject, *audience, *credential); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		var e *idaas.Error
		if errors.As(err, &e) && e.Code.Class() != idaas.ClassOK {
			os.Exit(int(e.Code.Class())) // the class values are the code groups: 2 config, 3 auth ...
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, config, provider, subject, audience, credential string) error {
	client, err := idaas.Init(config) // "": the default lookup
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer client.Close()

	token, err := client.Token(ctx)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	fmt.Printf("bearer token: %d chars\n", len(token))

	pam, err := client.NewPAMClient(nil)
	if err != nil {
		return fmt.Errorf("PAM client: %w", err)
	}
	defer pam.Close()

	key, found, err := pam.APIKey(ctx, credential)
	switch {
	case err != nil:
		return fmt.Errorf("API key: %w", err)
	case !found:
		fmt.Printf("API key %s: none (not an API-key credential)\n", credential)
	default:
		fmt.Printf("API key %s: %s... (%d chars)\n", credential, key[:min(3, len(key))], len(key))
	}

	g, err := pam.GenerateJWT(ctx, provider, subject, []string{audience}, &idaas.JWTOptions{
		Expiration:               15 * time.Minute,
		IncludeDerivedShortToken: true,
		CustomClaims:             map[string]any{"tenant": "acme"},
	})
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	jwt := g.JWTContent.JWTValue
	fmt.Printf("generated %s: %.16s... (%d chars)\n", g.AuthenticationTokenID, jwt, len(jwt))

	show := func(step string) error {
		active, err := pam.ValidateToken(ctx, jwt, "")
		if err != nil {
			return fmt.Errorf("validate: %w", err)
		}
		fmt.Printf("%-22s active=%t\n", step, active)
		return nil
	}
	if err := show("after generate:"); err != nil {
		return err
	}
	if err := pam.RevokeToken(ctx, jwt, ""); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	if err := show("after revoke:"); err != nil {
		return err
	}
	if err := pam.ReinstateToken(ctx, jwt, ""); err != nil {
		return fmt.Errorf("reinstate: %w", err)
	}
	return show("after reinstate:")
}
