package idaas_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	idaas "github.com/idaas-sdk/idaas/bindings/go"
)

// The quick start: Init with the default configuration lookup (CLOUD_IDAAS_CONFIG_PATH, else
// ~/.cloud_idaas/client-config.json; or Init(path)), then cached bearer tokens. (The test suite
// points CLOUD_IDAAS_CONFIG_PATH at its emulator.)
func Example() {
	client, err := idaas.Init("")
	if err != nil {
		fmt.Println("client:", err)
		return
	}
	defer client.Close()

	ctx := context.Background()
	token, err := client.Token(ctx) // served from the cache, refreshed ahead of expiry
	if err != nil {
		fmt.Println("token:", err)
		return
	}
	again, _ := client.Token(ctx)
	fmt.Println("got a token:", token != "")
	fmt.Println("cached:", again == token)
	// Output:
	// got a token: true
	// cached: true
}

// Tokens for another scope, and the zero-allocation read into a caller's buffer.
func ExampleClient_AppendToken() {
	ctx := context.Background()
	client, err := idaas.Init("")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	buf := make([]byte, 0, 4096)
	buf, err = client.AppendToken(ctx, buf[:0], "api.example.com|read:file")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Authorization: Bearer", len(buf) > 0)
	clear(buf) // wipe the secret
	// Output: Authorization: Bearer true
}

// The JWT lifecycle of the IDaaS Developer API (examples/c/jwt_lifecycle.c in Go).
func ExamplePAMClient_GenerateJWT() {
	ctx := context.Background()
	client, err := idaas.Init("")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	pam, err := client.NewPAMClient(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pam.Close()

	g, err := pam.GenerateJWT(ctx, "partner_jwt", "billing-agent", []string{"https://api.partner.example"},
		&idaas.JWTOptions{Expiration: 15 * time.Minute, IncludeDerivedShortToken: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	jwt := g.JWTContent.JWTValue
	show := func(step string) {
		active, err := pam.ValidateToken(ctx, jwt, "")
		fmt.Println(step, active, err)
	}
	show("after generate:")
	_ = pam.RevokeToken(ctx, jwt, "")
	show("after revoke:")
	_ = pam.ReinstateToken(ctx, jwt, "")
	show("after reinstate:")
	// Output:
	// after generate: true <nil>
	// after revoke: false <nil>
	// after reinstate: true <nil>
}

// An API key, optionally served from an in-memory cache.
func ExamplePAMClient_APIKey() {
	ctx := context.Background()
	client, err := idaas.Init("")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	pam, err := client.NewPAMClient(&idaas.PAMOptions{APIKeyCache: &idaas.APIKeyCache{TTL: 10 * time.Minute}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pam.Close()
	key, found, err := pam.APIKey(ctx, "openai_prod_key")
	fmt.Println(strings.HasPrefix(key, "sk-"), found, err)
	// Output: true true <nil>
}

// Every authentication token of a consumer, page after page, with a range-over-func iterator.
func ExamplePAMClient_ListTokens() {
	ctx := context.Background()
	client, err := idaas.Init("")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	pam, _ := client.NewPAMClient(nil)
	defer pam.Close()
	g, err := pam.GenerateJWT(ctx, "partner_jwt", "list-example", []string{"https://api.partner.example"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	n := 0
	for tok, err := range pam.ListTokens(ctx, g.ConsumerID, "partner_jwt", &idaas.ListOptions{MaxResults: 10}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if tok.AuthenticationTokenID == g.AuthenticationTokenID {
			n++
		}
	}
	fmt.Println("found the new token:", n == 1)
	// Output: found the new token: true
}

// Errors carry the library's code and the server's details; test the class with errors.Is.
func ExampleError() {
	_, err := idaas.Init("/nonexistent/client-config.json")
	var e *idaas.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.ServerCode)
	}
	fmt.Println(errors.Is(err, idaas.ErrConfig), errors.Is(err, idaas.ErrAuth))
	// Output:
	// config LoadConfigFileFailed
	// true false
}

// A token plugin: the clients of a configuration get their tokens from Go code instead of a
// token endpoint. The plugin belongs to the Config and is released with it and its clients.
func ExampleConfig_AddPlugin() {
	cfg, err := idaas.ParseConfig(`{
		"idaasInstanceId": "idaas_example", "clientId": "app_example",
		"issuer": "https://idaas.invalid/oauth2", "tokenEndpoint": "https://idaas.invalid/oauth2/token",
		"scope": "api.example.com|read:file",
		"authnConfiguration": {"authnMethod": "PLUGIN", "pluginName": "example-vault"}}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cfg.Close()
	err = cfg.AddPlugin("example-vault", func(scope string) (string, time.Duration, error) {
		return "token-for-" + scope, time.Hour, nil // e.g. read from a vault
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := idaas.NewClient(context.Background(), cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	token, err := client.Token(context.Background())
	fmt.Println(token, err)
	// Output: token-for-api.example.com|read:file <nil>
}

// A static provider, e.g. over a token obtained elsewhere, for a PAM client.
func ExampleNewStaticProvider() {
	p, err := idaas.NewStaticProvider("eyJhbGciOi...", time.Now().Add(time.Hour))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	token, _ := p.Token(context.Background())
	fmt.Println(token)
	// Output: eyJhbGciOi...
}

// The library's log through log/slog, process-wide (nil stops it); Config.SetLogger gives the
// clients of one configuration a logger of their own.
func ExampleSetLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := idaas.SetLogger(logger); err != nil {
		fmt.Println(err)
	}
	defer idaas.SetLogger(nil)
	fmt.Println("logging warnings and errors")
	// Output: logging warnings and errors
}

// 3LO: the user authorizes in a browser while the call polls; ctx cancels the wait.
func ExamplePAMClient_PollOAuthToken() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, err := idaas.Init("")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	// The user-bound token the 3LO operations need: the client's token exchanged.
	subject, _ := client.Token(ctx)
	cred, err := client.ExchangeToken(ctx, idaas.ExchangeRequest{SubjectToken: subject, SubjectTokenType: idaas.TokenTypeAccessToken})
	if err != nil {
		fmt.Println(err)
		return
	}
	provider, _ := idaas.NewProviderFromCredential(cred)
	pam, err := client.NewPAMClientWithProvider(provider, nil)
	provider.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pam.Close()
	r, err := pam.PollOAuthToken(ctx, "google_drive_user", nil, func(url string) error {
		fmt.Fprintln(os.Stderr, "Open this URL to authorize:", url)
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("token type:", r.OAuthAccessTokenContent.TokenType)
}
