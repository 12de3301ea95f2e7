package idaas_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	idaas "github.com/idaas-sdk/idaas/bindings/go"
)

const (
	pamProvider  = "partner_jwt"
	jwtSubject   = "billing-agent"
	jwtAudience  = "https://api.partner.example"
	apiKeyCred   = "openai_prod_key"
	apiKeyValue  = "sk-EXAMPLE0123456789abcdef"
	oauthCred    = "partner_oauth_client"
	drive2LO     = "google_drive_reader"
	drive3LO     = "google_drive_user"
	grantedScope = "api.example.com|read:file"
)

func asError(t testing.TB, err error) *idaas.Error {
	t.Helper()
	var e *idaas.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *idaas.Error, got %T: %v", err, err)
	}
	return e
}

func wantClass(t testing.TB, err error, class error) *idaas.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v, got nil", class)
	}
	if !errors.Is(err, class) {
		t.Fatalf("want errors.Is(err, %v), got %v", class, err)
	}
	return asError(t, err)
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// clientFromJSON is ParseConfig + NewClient (the config is closed at once: clients copy it).
func clientFromJSON(ctx context.Context, configJSON string, opts *idaas.ClientOptions) (*idaas.Client, error) {
	cfg, err := idaas.ParseConfig(configJSON)
	if err != nil {
		return nil, err
	}
	defer cfg.Close()
	return idaas.NewClient(ctx, cfg, opts)
}

// pluginClient is a client of a PLUGIN configuration whose plugin name is served by fn.
func pluginClient(ctx context.Context, name string, fn idaas.PluginFunc, opts *idaas.ClientOptions) (*idaas.Client, error) {
	cfg, err := idaas.ParseConfig(pluginConfig(name))
	if err != nil {
		return nil, err
	}
	defer cfg.Close()
	if err := cfg.AddPlugin(name, fn); err != nil {
		return nil, err
	}
	return idaas.NewClient(ctx, cfg, opts)
}

func newClient(t testing.TB) *idaas.Client {
	t.Helper()
	e := needEmulator(t)
	c, err := clientFromJSON(context.Background(), e.configJSON, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newPAM(t testing.TB, c *idaas.Client, opts *idaas.PAMOptions) *idaas.PAMClient {
	t.Helper()
	p, err := c.NewPAMClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// ---- offline --------------------------------------------------------------------------------------

func TestVersion(t *testing.T) {
	v := idaas.Version()
	if v == "" || strings.Count(v, ".") < 2 {
		t.Fatalf("version %q", v)
	}
}

func TestErrorClasses(t *testing.T) {
	cases := []struct {
		code idaas.Code
		is   []error
		not  []error
	}{
		{idaas.CodeNullArgument, []error{idaas.ErrInvalidArgument}, []error{idaas.ErrConfig}},
		{idaas.CodeInvalidArgument, []error{idaas.ErrInvalidArgument}, []error{idaas.ErrAuth}},
		{idaas.CodeReentrantCall, []error{idaas.ErrInvalidArgument, idaas.ErrReentrantCall}, []error{idaas.ErrAuth}},
		{idaas.CodeConfig, []error{idaas.ErrConfig}, []error{idaas.ErrAuth}},
		{idaas.CodeCredential, []error{idaas.ErrAuth, idaas.ErrCredential}, []error{idaas.ErrServer}},
		{idaas.CodeAuth, []error{idaas.ErrAuth}, []error{idaas.ErrCredential}},
		{idaas.CodeClientError, []error{idaas.ErrClient, idaas.ErrServerReply}, []error{idaas.ErrServer}},
		{idaas.CodeServerError, []error{idaas.ErrServer, idaas.ErrServerReply}, []error{idaas.ErrClient, idaas.ErrNetwork}},
		{idaas.CodeUnexpectedResponse, []error{idaas.ErrUnexpectedResponse, idaas.ErrServerReply}, []error{idaas.ErrServer}},
		{idaas.CodeTransport, []error{idaas.ErrNetwork}, []error{idaas.ErrTimeout}},
		{idaas.CodeTimeout, []error{idaas.ErrNetwork, idaas.ErrTimeout}, []error{idaas.ErrCancelled}},
		{idaas.CodeCancelled, []error{idaas.ErrCancelled}, []error{idaas.ErrTimeout}},
		{idaas.CodePanic, []error{idaas.ErrInternal}, []error{idaas.ErrServer}},
		// codes this version does not know: the library's class
		{idaas.Code(599), []error{idaas.ErrNetwork}, []error{idaas.ErrInternal}},
		{idaas.Code(777), []error{idaas.ErrInternal}, []error{idaas.ErrServerReply}},
	}
	for _, c := range cases {
		err := fmt.Errorf("wrapped: %w", &idaas.Error{Code: c.code})
		for _, s := range c.is {
			if !errors.Is(err, s) {
				t.Errorf("code %d: want Is %v", c.code, s)
			}
		}
		for _, s := range c.not {
			if errors.Is(err, s) {
				t.Errorf("code %d: want not Is %v", c.code, s)
			}
		}
	}
	if idaas.ErrAuth.Error() != "idaas: authentication error" {
		t.Errorf("ErrAuth.Error() = %q", idaas.ErrAuth.Error())
	}
	if got := idaas.CodeAuth.String(); got != "auth" {
		t.Errorf("CodeAuth.String() = %q", got)
	}
	if got := idaas.Code(777).String(); got != "unknown" {
		t.Errorf("Code(777).String() = %q", got)
	}
	if got := idaas.CodeOK.Class(); got != idaas.ClassOK {
		t.Errorf("CodeOK.Class() = %d", got)
	}
	// Retryable is the library's verdict on its error; an error the binding makes is not.
	if (&idaas.Error{Code: idaas.CodeServerError}).Retryable() {
		t.Error("a Go-made Error is retryable")
	}
}

// TestResultsRedactSecrets: printing a result (fmt, any verb) never shows its secrets, nested
// ones included; JSON keeps them (NewProviderFromCredential sends the credential as JSON).
func TestResultsRedactSecrets(t *testing.T) {
	cred := idaas.Credential{AccessToken: "secret-access", TokenType: "Bearer", ExpiresIn: 60}
	jwt := idaas.JWTTokenResponse{AuthenticationTokenID: "atntkn_1",
		JWTContent: idaas.JWTContent{JWTValue: "secret-jwt", DerivedShortToken: "secret-short"}}
	oauth := idaas.OAuthAuthenticationTokenResponse{CredentialProviderID: "drive",
		OAuthAccessTokenContent: &idaas.OAuthAccessTokenContent{AccessTokenValue: "secret-oauth", TokenType: "Bearer"}}
	for _, v := range []any{cred, &cred, jwt, &jwt, oauth, &oauth} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "secret-") {
				t.Errorf("%s of %T shows a secret: %s", verb, v, out)
			}
			if !strings.Contains(out, "redacted") || !(strings.Contains(out, "Bearer") || strings.Contains(out, "atntkn_1")) {
				t.Errorf("%s of %T: %s", verb, v, out)
			}
		}
	}
	b, err := json.Marshal(cred)
	if err != nil || !strings.Contains(string(b), `"access_token":"secret-access"`) || strings.Contains(string(b), "scope") {
		t.Errorf("credential JSON %s, %v", b, err)
	}
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	_, err := idaas.ParseConfig("{}")
	wantClass(t, err, idaas.ErrConfig)
	_, err = idaas.ParseConfig("not json")
	wantClass(t, err, idaas.ErrConfig)
	_, err = idaas.LoadConfig("/nonexistent/idaas.json")
	if e := wantClass(t, err, idaas.ErrConfig); e.ServerCode != "LoadConfigFileFailed" {
		t.Errorf("server code %q", e.ServerCode)
	}
	_, err = idaas.Init("/nonexistent/idaas.json")
	wantClass(t, err, idaas.ErrConfig)
	_, err = clientFromJSON(ctx, `{"clientId":"x"}`, nil)
	e := wantClass(t, err, idaas.ErrConfig)
	if e.Code != idaas.CodeConfig || e.Message == "" || !strings.Contains(err.Error(), "idaas: config") {
		t.Errorf("error %#v / %q", e, err.Error())
	}
	t.Setenv("CLOUD_IDAAS_CONFIG_PATH", "/nonexistent/default.json")
	_, err = idaas.LoadConfig("")
	wantClass(t, err, idaas.ErrConfig)
	_, err = idaas.Init("")
	wantClass(t, err, idaas.ErrConfig)
	_, err = idaas.NewClient(ctx, nil, nil)
	wantClass(t, err, idaas.ErrInvalidArgument)
}

// TestInitDefaultLookup: Init("") follows the lookup (CLOUD_IDAAS_CONFIG_PATH, else
// ~/.cloud_idaas/client-config.json) and passes on the library's hint about a misnamed file.
func TestInitDefaultLookup(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("CLOUD_IDAAS_CONFIG_PATH", "")
	dir := filepath.Join(home, ".cloud_idaas")
	noErr(t, os.MkdirAll(dir, 0o700))
	noErr(t, os.WriteFile(filepath.Join(dir, "client_config.json"), []byte(pluginConfig("go-init")), 0o600))
	_, err := idaas.Init("")
	if e := wantClass(t, err, idaas.ErrConfig); !strings.Contains(e.Message, "client_config.json") {
		t.Errorf("no hint about client_config.json: %q", e.Message)
	}
	noErr(t, os.Rename(filepath.Join(dir, "client_config.json"), filepath.Join(dir, "client-config.json")))
	// Found now; a PLUGIN configuration needs its plugin, which only a Config can add.
	_, err = idaas.Init("")
	if e := wantClass(t, err, idaas.ErrConfig); strings.Contains(e.Message, "client_config.json") {
		t.Errorf("the default file exists, yet: %q", e.Message)
	}
	cfg := must[*idaas.Config](t)(idaas.LoadConfig("~/.cloud_idaas/client-config.json"))
	defer cfg.Close()
	noErr(t, cfg.AddPlugin("go-init", func(string) (string, time.Duration, error) { return "init-token", time.Hour, nil }))
	c := must[*idaas.Client](t)(idaas.NewClient(context.Background(), cfg, nil))
	defer c.Close()
	if got := must[string](t)(c.Token(context.Background())); got != "init-token" {
		t.Errorf("token %q", got)
	}
}

// pluginConfig is a PLUGIN client configuration (no server needed).
func pluginConfig(name string) string {
	return fmt.Sprintf(`{"idaasInstanceId":"idaas_go","clientId":"app_go",
		"issuer":"http://127.0.0.1:9/api/v2/iauths_system/oauth2",
		"tokenEndpoint":"http://127.0.0.1:9/api/v2/iauths_system/oauth2/token",
		"authnConfiguration":{"authnMethod":"PLUGIN","pluginName":%q}}`, name)
}

func TestPlugin(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int64
	plugin := func(scope string) (string, time.Duration, error) {
		calls.Add(1)
		switch {
		case strings.Contains(scope, "fail"):
			return "", 0, errors.New("the Go plugin refuses " + scope)
		case strings.Contains(scope, "panic"):
			panic("boom")
		case strings.Contains(scope, "nocache"):
			// no lifetime: never cached, a new token (and library version) on every call
			return fmt.Sprintf("nocache-%d", calls.Load()), 0, nil
		}
		return "tok-" + scope, time.Hour, nil
	}
	cfg := must[*idaas.Config](t)(idaas.ParseConfig(pluginConfig("go-test-plugin")))
	defer cfg.Close()
	wantClass(t, cfg.AddPlugin(" ", func(string) (string, time.Duration, error) { return "", 0, nil }), idaas.ErrInvalidArgument)
	wantClass(t, cfg.AddPlugin("x", nil), idaas.ErrInvalidArgument)
	noErr(t, cfg.AddPlugin("go-test-plugin", plugin))

	c := must[*idaas.Client](t)(idaas.NewClient(ctx, cfg, &idaas.ClientOptions{Prefetch: true, UserAgentSuffix: "test"}))
	defer c.Close()
	if calls.Load() != 1 {
		t.Errorf("prefetch: %d plugin calls", calls.Load())
	}
	tok := must[string](t)(c.Token(ctx))
	if !strings.HasPrefix(tok, "tok-") {
		t.Errorf("token %q", tok)
	}
	if got := must[string](t)(c.TokenForScope(ctx, "api.example.com|read:file")); got != "tok-api.example.com|read:file" {
		t.Errorf("scoped token %q", got)
	}
	// many scopes, each read twice as a string and into a buffer
	for i := range 70 {
		scope := fmt.Sprintf("api%d.example.com|read", i)
		for range 2 {
			if got := must[string](t)(c.TokenForScope(ctx, scope)); got != "tok-"+scope {
				t.Fatalf("scope %s: %q", scope, got)
			}
			buf := must[[]byte](t)(c.AppendToken(ctx, nil, scope))
			if string(buf) != "tok-"+scope {
				t.Fatalf("scope %s: %q", scope, buf)
			}
		}
	}
	// A token that changes on every call: each call returns the new one (the memo of Token and
	// Provider.Token must never hand back the previous string), for a scope and through a
	// provider.
	vc := must[*idaas.Client](t)(idaas.NewClient(ctx, cfg, nil))
	defer vc.Close()
	seen := map[string]bool{}
	for range 5 {
		got := must[string](t)(vc.TokenForScope(ctx, "api.example.com|nocache"))
		if !strings.HasPrefix(got, "nocache-") || seen[got] {
			t.Fatalf("nocache token %q repeated or wrong (seen %v)", got, seen)
		}
		seen[got] = true
	}
	ncp := must[*idaas.Provider](t)(vc.Provider("api.example.com|nocache"))
	p1 := must[string](t)(ncp.Token(ctx))
	p2 := must[string](t)(ncp.Token(ctx))
	if p1 == p2 || !strings.HasPrefix(p2, "nocache-") {
		t.Errorf("provider nocache tokens %q %q", p1, p2)
	}
	ncp.Close()
	before := calls.Load()
	must[string](t)(c.Token(ctx)) // cached
	if calls.Load() != before {
		t.Error("cached token re-fetched")
	}
	_, err := c.TokenForScope(ctx, "api.example.com|fail")
	e := wantClass(t, err, idaas.ErrCredential)
	if e.ServerCode != "PluginFailed" || !strings.Contains(e.Message, "refuses") {
		t.Errorf("plugin error %#v", e)
	}
	_, err = c.TokenForScope(ctx, "api.example.com|panic")
	if e := wantClass(t, err, idaas.ErrCredential); !strings.Contains(e.Message, "panicked") {
		t.Errorf("plugin panic %#v", e)
	}
	_, err = c.TokenForScope(ctx, "bad scope")
	wantClass(t, err, idaas.ErrInvalidArgument)
	_, err = c.ExchangeProvider("")
	wantClass(t, err, idaas.ErrConfig) // PLUGIN clients cannot exchange

	// a big token: the buffer fallback
	big := strings.Repeat("b", 10000)
	bc := must[*idaas.Client](t)(pluginClient(ctx, "go-big", func(string) (string, time.Duration, error) { return big, time.Hour, nil }, nil))
	defer bc.Close()
	if got := must[string](t)(bc.Token(ctx)); got != big {
		t.Errorf("big token: %d bytes", len(got))
	}
	p := must[*idaas.Provider](t)(bc.Provider(""))
	if got := must[string](t)(p.Token(ctx)); got != big {
		t.Errorf("big token via provider: %d bytes", len(got))
	}
	p.Close()

	// lifetime 0: not cached, the plugin is called on every use
	var nc atomic.Int64
	ncc := must[*idaas.Client](t)(pluginClient(ctx, "go-nocache", func(string) (string, time.Duration, error) {
		nc.Add(1)
		return "uncached", 0, nil
	}, nil))
	defer ncc.Close()
	for range 3 {
		if got := must[string](t)(ncc.Token(ctx)); got != "uncached" {
			t.Errorf("uncached token %q", got)
		}
	}
	if nc.Load() != 3 {
		t.Errorf("lifetime 0: %d plugin calls, want 3", nc.Load())
	}

	// a plugin the configuration does not have (plugins belong to a Config: another Config's
	// plugins do not count)
	_, err = clientFromJSON(ctx, pluginConfig("go-test-plugin"), nil)
	wantClass(t, err, idaas.ErrConfig)
}

func TestStaticProviderAndClose(t *testing.T) {
	ctx := context.Background()
	p := must[*idaas.Provider](t)(idaas.NewStaticProvider("static-token", time.Now().Add(time.Hour)))
	if got := must[string](t)(p.Token(ctx)); got != "static-token" {
		t.Errorf("token %q", got)
	}
	buf := make([]byte, 0, 64)
	buf = must[[]byte](t)(p.AppendToken(ctx, buf))
	if string(buf) != "static-token" {
		t.Errorf("AppendToken %q", buf)
	}
	p.Close()
	p.Close() // idempotent
	if _, err := p.Token(ctx); !errors.Is(err, idaas.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	_, err := idaas.NewStaticProvider(" ", time.Time{})
	wantClass(t, err, idaas.ErrInvalidArgument)

	cp := must[*idaas.Provider](t)(idaas.NewProviderFromCredential(&idaas.Credential{AccessToken: "cred-token", TokenType: "Bearer", ExpiresIn: 60}))
	if got := must[string](t)(cp.Token(ctx)); got != "cred-token" {
		t.Errorf("credential provider %q", got)
	}
	cp.Close()
	_, err = idaas.NewProviderFromCredentialJSON(`{"token_type":"Bearer"}`)
	wantClass(t, err, idaas.ErrInvalidArgument)

	cfg := must[*idaas.Config](t)(idaas.ParseConfig(pluginConfig("go-test-plugin")))
	cfg.Close()
	if _, err := idaas.NewClient(ctx, cfg, nil); !errors.Is(err, idaas.ErrClosed) {
		t.Errorf("closed config: %v", err)
	}
}

func TestLogger(t *testing.T) {
	var mu sync.Mutex
	var records []string
	h := &captureHandler{level: slog.LevelDebug, add: func(r slog.Record) {
		mu.Lock()
		defer mu.Unlock()
		target := ""
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "target" {
				target = a.Value.String()
			}
			return true
		})
		records = append(records, r.Level.String()+" "+target+": "+r.Message)
	}}
	if err := idaas.SetLogger(slog.New(h)); err != nil {
		t.Fatal(err)
	}
	defer idaas.SetLogger(nil)
	// something that logs: a failing plugin token fetch, and (with an emulator) a real fetch
	failing := func(string) (string, time.Duration, error) { return "", 0, errors.New("nope") }
	c := must[*idaas.Client](t)(pluginClient(context.Background(), "go-log", failing, nil))
	c.Token(context.Background())
	c.Close()
	if emu != nil {
		ec := newClient(t)
		must[string](t)(ec.Token(context.Background()))
	}
	if err := idaas.SetLogger(nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	n := len(records)
	mu.Unlock()
	if n == 0 && emu == nil {
		t.Skip("no log records without an emulator")
	}
	if n == 0 {
		t.Fatal("no log records")
	}
	t.Logf("%d records, first: %s", n, records[0])
	for _, r := range records {
		if emu != nil && strings.Contains(r, emu.secret) {
			t.Fatalf("secret in log: %s", r)
		}
	}
	// removed: nothing more is logged
	c = must[*idaas.Client](t)(pluginClient(context.Background(), "go-log", failing, nil))
	c.Token(context.Background())
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(records) != n {
		t.Errorf("logged after SetLogger(nil)")
	}
}

// TestConfigLogger: a Config's logger receives the records of its clients, which then no longer
// reach the process-wide logger (that one still gets the HTTP stack's records).
func TestConfigLogger(t *testing.T) {
	e := needEmulator(t)
	type rec struct{ level, target, msg string }
	capture := func(mu *sync.Mutex, into *[]rec) *slog.Logger {
		return slog.New(&captureHandler{level: idaas.LevelTrace, add: func(r slog.Record) {
			target := ""
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "target" {
					target = a.Value.String()
				}
				return true
			})
			mu.Lock()
			*into = append(*into, rec{r.Level.String(), target, r.Message})
			mu.Unlock()
		}})
	}
	var mu sync.Mutex
	var own, global []rec
	noErr(t, idaas.SetLogger(capture(&mu, &global)))
	defer idaas.SetLogger(nil)
	cfg := must[*idaas.Config](t)(idaas.ParseConfig(e.configJSON))
	defer cfg.Close()
	noErr(t, cfg.SetLogger(capture(&mu, &own)))
	c := must[*idaas.Client](t)(idaas.NewClient(context.Background(), cfg, nil))
	defer c.Close()
	must[string](t)(c.Token(context.Background()))
	noErr(t, idaas.SetLogger(nil))
	mu.Lock()
	defer mu.Unlock()
	if len(own) == 0 {
		t.Fatal("the config's logger got no record")
	}
	for _, r := range own {
		if !strings.HasPrefix(r.target, "idaas") || strings.Contains(r.msg, e.secret) {
			t.Errorf("config logger record %+v", r)
		}
	}
	for _, r := range global {
		if strings.HasPrefix(r.target, "idaas") {
			t.Errorf("a record of the client reached the process-wide logger: %+v", r)
		}
	}
	t.Logf("%d records to the config's logger, %d (HTTP stack) to the process-wide one", len(own), len(global))
}

type captureHandler struct {
	level slog.Level
	add   func(slog.Record)
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.add(r)
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

// ---- against the emulator ---------------------------------------------------------------------

func TestConstructors(t *testing.T) {
	e := needEmulator(t)
	ctx := context.Background()
	check := func(name string, c *idaas.Client, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer c.Close()
		if tok, err := c.Token(ctx); err != nil || len(tok) < 20 {
			t.Fatalf("%s: token %q, %v", name, tok, err)
		}
	}
	c, err := idaas.Init(e.configPath)
	check("init file", c, err)
	c, err = idaas.Init("") // CLOUD_IDAAS_CONFIG_PATH
	check("init default", c, err)
	c, err = clientFromJSON(ctx, e.configJSON, &idaas.ClientOptions{InlineRefresh: true})
	check("json", c, err)
	c, err = clientFromJSON(ctx, e.configJSON, &idaas.ClientOptions{Prefetch: true})
	check("prefetch", c, err)
	for _, load := range []func() (*idaas.Config, error){
		func() (*idaas.Config, error) { return idaas.LoadConfig(e.configPath) },
		func() (*idaas.Config, error) { return idaas.ParseConfig(e.configJSON) },
		func() (*idaas.Config, error) { return idaas.LoadConfig("") },
	} {
		cfg := must[*idaas.Config](t)(load())
		c, err = idaas.NewClient(ctx, cfg, nil)
		cfg.Close() // clients do not depend on their config
		check("config", c, err)
	}
	// Prefetch surfaces errors in the constructor
	t.Setenv(e.secretEnv, "wrong-secret")
	_, err = clientFromJSON(ctx, e.configJSON, &idaas.ClientOptions{Prefetch: true})
	wantClass(t, err, idaas.ErrAuth)
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	a := must[string](t)(c.Token(ctx))
	b := must[string](t)(c.Token(ctx))
	if a != b || len(a) < 20 {
		t.Fatalf("token not cached: %q %q", a, b)
	}
	s := must[string](t)(c.TokenForScope(ctx, grantedScope))
	if s == a {
		t.Error("scoped token equals the default one")
	}
	buf := make([]byte, 0, 8192)
	buf = must[[]byte](t)(c.AppendToken(ctx, buf, ""))
	if string(buf) != a {
		t.Error("AppendToken differs from Token")
	}
	clear(buf)
	// cancellable context: the goroutine path
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if got := must[string](t)(c.Token(cctx)); got != a {
		t.Error("Token(ctx with deadline) differs")
	}
	if got := must[[]byte](t)(c.AppendToken(cctx, nil, "")); string(got) != a {
		t.Error("AppendToken(ctx with deadline) differs")
	}
	// a provider shares the cache and outlives the client
	p := must[*idaas.Provider](t)(c.Provider(""))
	defer p.Close()
	// refused by the server: not granted
	_, err := c.TokenForScope(ctx, "api.example.com|admin")
	if e := wantClass(t, err, idaas.ErrAuth); e.HTTPStatus < 400 || e.ServerCode == "" {
		t.Errorf("refused scope: %#v", e)
	}
	_, err = c.TokenForScope(ctx, "bad scope")
	wantClass(t, err, idaas.ErrInvalidArgument)
	_, err = c.Provider("bad scope")
	wantClass(t, err, idaas.ErrInvalidArgument)
	c.Close()
	if got := must[string](t)(p.Token(ctx)); got != a {
		t.Error("provider token differs")
	}
	if got := must[string](t)(p.Token(cctx)); got != a {
		t.Error("provider token (ctx with deadline) differs")
	}
	if got := must[[]byte](t)(p.AppendToken(cctx, nil)); string(got) != a {
		t.Error("provider AppendToken (ctx with deadline) differs")
	}
	if _, err := c.Token(ctx); !errors.Is(err, idaas.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := c.NewPAMClient(nil); !errors.Is(err, idaas.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestAuthErrors(t *testing.T) {
	e := needEmulator(t)
	ctx := context.Background()
	t.Setenv(e.secretEnv, "not-the-secret")
	c := newClient(t)
	_, err := c.Token(ctx)
	ae := wantClass(t, err, idaas.ErrAuth)
	if ae.Code != idaas.CodeAuth || ae.HTTPStatus != 401 || ae.ServerCode != "invalid_client" || ae.RequestID == "" {
		t.Errorf("wrong secret: %#v", ae)
	}
	if strings.Contains(ae.Error(), "not-the-secret") {
		t.Error("secret in the message")
	}
	if errors.Is(err, idaas.ErrCredential) || ae.Retryable() {
		t.Error("wrong secret is not a local credential error, nor retryable")
	}
	// the variable unset: a local credential error
	t.Setenv(e.secretEnv, "")
	c2 := newClient(t)
	_, err = c2.Token(ctx)
	wantClass(t, err, idaas.ErrCredential)
}

func TestServerErrors(t *testing.T) {
	e := needEmulator(t)
	ctx := context.Background()
	cases := []struct {
		spec  string
		class error
		code  idaas.Code
	}{
		{"token=status/503:10", idaas.ErrServer, idaas.CodeServerError},
		{"token=non-json:10", idaas.ErrUnexpectedResponse, idaas.CodeUnexpectedResponse},
		{"token=reset:10", idaas.ErrNetwork, idaas.CodeTransport},
		{"token=status/429:10", idaas.ErrClient, idaas.CodeClientError},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			e.fault(t, tc.spec)
			c := newClient(t)
			_, err := c.Token(ctx)
			ie := wantClass(t, err, tc.class)
			if ie.Code != tc.code {
				t.Errorf("code %v, want %v (%v)", ie.Code, tc.code, err)
			}
			// the library's verdict: 5xx, 429 and transport failures are worth a retry
			if want := tc.code != idaas.CodeUnexpectedResponse; ie.Retryable() != want {
				t.Errorf("Retryable() = %v, want %v (%#v)", ie.Retryable(), want, ie)
			}
			if tc.code == idaas.CodeServerError && (ie.HTTPStatus != 503 || !ie.Retryable()) {
				t.Errorf("503: %#v", ie)
			}

		})
	}
	// nothing listens: connection refused
	c := must[*idaas.Client](t)(clientFromJSON(ctx, e.configWith(t, func(m map[string]any) {
		m["tokenEndpoint"] = "http://127.0.0.1:1/oauth2/token"
		m["issuer"] = "http://127.0.0.1:1/oauth2"
	}), nil))
	defer c.Close()
	_, err := c.Token(ctx)
	wantClass(t, err, idaas.ErrNetwork)
}

func TestContextCancellation(t *testing.T) {
	e := needEmulator(t)
	c := newClient(t)
	pam := newPAM(t, c, nil)
	must[string](t)(c.Token(context.Background())) // warm the cache for the PAM scope below
	must[string](t)(c.TokenForScope(context.Background(), "urn:cloud:idaas:pam|.all"))

	// already cancelled: no call at all
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Token(cctx)
	wantClass(t, err, idaas.ErrCancelled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}

	// a slow server: the call returns at the deadline, the C call finishes in the background
	e.fault(t, "any=latency/3000")
	slow := newClient(t)
	for name, call := range map[string]func(ctx context.Context) error{
		"token": func(ctx context.Context) error { _, err := slow.TokenForScope(ctx, grantedScope); return err },
		"api key": func(ctx context.Context) error {
			_, _, err := pam.APIKey(ctx, apiKeyCred)
			return err
		},
		"exchange": func(ctx context.Context) error {
			_, err := c.ExchangeToken(ctx, idaas.ExchangeRequest{SubjectToken: "x", SubjectTokenType: idaas.TokenTypeAccessToken})
			return err
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		cancel()
		if took > time.Second {
			t.Errorf("%s: returned after %v", name, took)
		}
		wantClass(t, err, idaas.ErrTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: want context.DeadlineExceeded, got %v", name, err)
		}
	}
}

// TestAppendTokenAbandoned: AppendToken that returns early on ctx.Done leaves dst to the caller:
// the read that finishes in the background never writes into it.
func TestAppendTokenAbandoned(t *testing.T) {
	e := needEmulator(t)
	e.fault(t, "any=latency/400")
	c := newClient(t)
	dst := make([]byte, 0, 8192)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.AppendToken(ctx, dst, "")
	wantClass(t, err, idaas.ErrTimeout)
	full := dst[:cap(dst)]
	for i := range full {
		full[i] = 'z' // the caller's own use of its buffer
	}
	time.Sleep(1500 * time.Millisecond) // the token request completes meanwhile
	for i, b := range full {
		if b != 'z' {
			t.Fatalf("the abandoned read wrote into the caller's buffer at %d", i)
		}
	}
}

func TestExchange(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	subject := must[string](t)(c.Token(ctx))
	cred := must[*idaas.Credential](t)(c.ExchangeToken(ctx, idaas.ExchangeRequest{SubjectToken: subject, SubjectTokenType: idaas.TokenTypeAccessToken}))
	if len(cred.AccessToken) < 20 || cred.ExpiresIn <= 0 || cred.ExpiresAt < 1700000000 || cred.TokenType == "" || cred.ExpiresAtTime().IsZero() {
		t.Errorf("credential %+v", cred)
	}
	cred2 := must[*idaas.Credential](t)(c.ExchangeToken(ctx, idaas.ExchangeRequest{SubjectToken: subject,
		SubjectTokenType: idaas.TokenTypeAccessToken, RequestedTokenType: idaas.TokenTypeAccessToken, Scope: grantedScope}))
	if cred2.AccessToken == "" {
		t.Error("scoped exchange")
	}
	_, err := c.ExchangeToken(ctx, idaas.ExchangeRequest{SubjectToken: subject, SubjectTokenType: ""})
	wantClass(t, err, idaas.ErrInvalidArgument)
	_, err = c.ExchangeToken(ctx, idaas.ExchangeRequest{SubjectToken: subject, SubjectTokenType: idaas.TokenTypeAccessToken, Scope: "bad scope"})
	wantClass(t, err, idaas.ErrInvalidArgument)

	x := must[*idaas.ExchangeProvider](t)(c.ExchangeProvider(grantedScope))
	defer x.Close()
	if cr := must[*idaas.Credential](t)(x.Exchange(ctx, idaas.ExchangeRequest{SubjectToken: subject, SubjectTokenType: idaas.TokenTypeAccessToken})); cr.AccessToken == "" {
		t.Error("exchange provider")
	}
	_, err = x.Exchange(ctx, idaas.ExchangeRequest{SubjectToken: "not-a-token", SubjectTokenType: idaas.TokenTypeAccessToken})
	if e := asError(t, err); e.HTTPStatus < 400 || !(errors.Is(err, idaas.ErrAuth) || errors.Is(err, idaas.ErrClient)) {
		t.Errorf("bad subject token: %#v", e)
	}
	_, err = c.ExchangeProvider("x y")
	wantClass(t, err, idaas.ErrInvalidArgument)

	// the user-bound PAM client
	p := must[*idaas.Provider](t)(idaas.NewProviderFromCredential(cred))
	pam := must[*idaas.PAMClient](t)(c.NewPAMClientWithProvider(p, nil))
	p.Close() // the PAM client keeps it
	defer pam.Close()
	key, found, err := pam.APIKey(ctx, apiKeyCred)
	if err != nil || !found || key != apiKeyValue {
		t.Errorf("API key via exchanged token: %q %v %v", key, found, err)
	}
	x.Close()
	x.Close()
	if _, err := x.Exchange(ctx, idaas.ExchangeRequest{}); !errors.Is(err, idaas.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// userPAM is a PAM client with a user-bound token (the client's token exchanged).
func userPAM(t *testing.T, c *idaas.Client) *idaas.PAMClient {
	t.Helper()
	ctx := context.Background()
	subject := must[string](t)(c.Token(ctx))
	cred := must[*idaas.Credential](t)(c.ExchangeToken(ctx, idaas.ExchangeRequest{SubjectToken: subject, SubjectTokenType: idaas.TokenTypeAccessToken}))
	p := must[*idaas.Provider](t)(idaas.NewProviderFromCredential(cred))
	defer p.Close()
	pam := must[*idaas.PAMClient](t)(c.NewPAMClientWithProvider(p, nil))
	t.Cleanup(func() { pam.Close() })
	return pam
}

func TestPAMAPIKeys(t *testing.T) {
	e := needEmulator(t)
	ctx := context.Background()
	c := newClient(t)
	pam := newPAM(t, c, nil)
	key, found, err := pam.APIKey(ctx, apiKeyCred)
	if err != nil || !found || key != apiKeyValue {
		t.Fatalf("APIKey: %q %v %v", key, found, err)
	}
	key, found, err = pam.APIKey(ctx, oauthCred)
	if err != nil || found || key != "" {
		t.Errorf("no API key: %q %v %v", key, found, err)
	}
	_, _, err = pam.APIKey(ctx, "no_such_credential")
	if ie := wantClass(t, err, idaas.ErrClient); ie.HTTPStatus != 404 || ie.ServerCode == "" {
		t.Errorf("unknown credential %#v", ie)
	}
	_, _, err = pam.APIKey(ctx, " ")
	wantClass(t, err, idaas.ErrInvalidArgument)

	t.Run("faults", func(t *testing.T) {
		e.fault(t, "devapi:ObtainCredential=status/500:10")
		_, _, err := pam.APIKey(ctx, apiKeyCred)
		if ie := wantClass(t, err, idaas.ErrServer); ie.HTTPStatus != 500 {
			t.Errorf("500: %#v", ie)
		}
		e.clearFaults(t)
		e.fault(t, "devapi:ObtainCredential=status/403:1")
		_, _, err = pam.APIKey(ctx, apiKeyCred)
		wantClass(t, err, idaas.ErrAuth)
	})

	t.Run("cache", func(t *testing.T) {
		cached := newPAM(t, c, &idaas.PAMOptions{APIKeyCache: &idaas.APIKeyCache{TTL: 10 * time.Minute, Grace: time.Minute, RetryInterval: time.Second, MaxEntries: 16}})
		must[string](t)(func() (string, error) { k, _, err := cached.APIKey(ctx, apiKeyCred); return k, err }())
		e.fault(t, "devapi:ObtainCredential=status/404:10")
		if k, _, err := cached.APIKey(ctx, apiKeyCred); err != nil || k != apiKeyValue {
			t.Errorf("cached key: %q %v", k, err)
		}
		noErr(t, cached.InvalidateAPIKey(apiKeyCred))
		_, _, err := cached.APIKey(ctx, apiKeyCred)
		wantClass(t, err, idaas.ErrClient)
		noErr(t, cached.InvalidateAPIKey(""))
		noErr(t, pam.InvalidateAPIKey(""))                                                                                            // no cache: no-op
		short := must[*idaas.PAMClient](t)(c.NewPAMClient(&idaas.PAMOptions{APIKeyCache: &idaas.APIKeyCache{TTL: time.Millisecond}})) // rounded up to 1 s
		short.Close()
	})

	// a token the server rejects: 401 → auth
	sp := must[*idaas.Provider](t)(idaas.NewStaticProvider("not-a-valid-token", time.Time{}))
	defer sp.Close()
	bad := must[*idaas.PAMClient](t)(c.NewPAMClientWithProvider(sp, nil))
	defer bad.Close()
	_, _, err = bad.APIKey(ctx, apiKeyCred)
	if ie := wantClass(t, err, idaas.ErrAuth); ie.HTTPStatus != 401 {
		t.Errorf("401: %#v", ie)
	}

	// a configuration without developerApiEndpoint
	plain := must[*idaas.Client](t)(pluginClient(ctx, "go-pam-plain", func(string) (string, time.Duration, error) { return "t", time.Hour, nil }, nil))
	defer plain.Close()
	_, err = plain.NewPAMClient(nil)
	wantClass(t, err, idaas.ErrConfig)

	pam.Close()
	if _, _, err := pam.APIKey(ctx, apiKeyCred); !errors.Is(err, idaas.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestPAMOAuth(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	pam := newPAM(t, c, nil)
	tok, found, err := pam.FetchOAuthToken(ctx, drive2LO, "") //nolint:staticcheck // deprecated v1 covered on purpose
	if err != nil || !found || tok == "" {
		t.Errorf("v1: %q %v %v", tok, found, err)
	}
	_, _, err = pam.FetchOAuthToken(ctx, drive2LO, "https://www.googleapis.com/auth/drive.readonly") //nolint:staticcheck
	if err != nil {
		t.Error(err)
	}
	_, _, err = pam.FetchOAuthToken(ctx, "no_such_provider", "") //nolint:staticcheck
	wantClass(t, err, idaas.ErrClient)

	r := must[*idaas.OAuthAuthenticationTokenResponse](t)(pam.FetchOAuthTokenV2(ctx, drive2LO, idaas.FlowM2M, nil))
	if r.OAuthAccessTokenContent == nil || r.OAuthAccessTokenContent.AccessTokenValue == "" || r.CredentialProviderID == "" || r.OAuthAuthorizationSession != nil {
		t.Errorf("v2 m2m: %+v", r)
	}
	must[*idaas.OAuthAuthenticationTokenResponse](t)(pam.FetchOAuthTokenV2(ctx, drive2LO, idaas.FlowM2M, &idaas.OAuthOptions{
		Scope: "https://www.googleapis.com/auth/drive.readonly", ForceAuthentication: true,
		CustomParameters: map[string]string{"prompt": "consent"}}))
	_, err = pam.FetchOAuthTokenV2(ctx, drive2LO, "3lo", nil)
	if ie := wantClass(t, err, idaas.ErrInvalidArgument); ie.ServerCode != "invalid_authorization_flow" {
		t.Errorf("bad flow %#v", ie)
	}

	user := userPAM(t, c)
	_, err = user.FetchOAuthTokenV2(ctx, drive3LO, idaas.FlowM2M, nil)
	if ie := wantClass(t, err, idaas.ErrClient); ie.ServerCode != "authorization_flow_mismatch" {
		t.Errorf("flow mismatch %#v", ie)
	}
	s := must[*idaas.OAuthAuthenticationTokenResponse](t)(user.FetchOAuthTokenV2(ctx, drive3LO, idaas.FlowUserFederation, &idaas.OAuthOptions{ForceAuthentication: true}))
	if s.OAuthAuthorizationSession == nil || s.OAuthAuthorizationSession.SessionURI == "" || s.OAuthAuthorizationSession.AuthorizationURL == "" {
		t.Fatalf("3LO: %+v", s)
	}
	st := must[*idaas.OAuthAuthorizationSessionResponse](t)(user.OAuthSession(ctx, s.OAuthAuthorizationSession.SessionURI))
	if st.SessionStatus != "pending" || st.SessionURI != s.OAuthAuthorizationSession.SessionURI {
		t.Errorf("session %+v", st)
	}
	_, err = user.OAuthSession(ctx, "urn:ietf:params:oauth:request_uri:nope")
	wantClass(t, err, idaas.ErrClient)
}

// completeNewestSession plays the user: sets the newest 3LO session to status.
func completeNewestSession(t *testing.T, status string) error {
	_, b := emu.control(t, "GET", "/_emulator/sessions", nil)
	var s struct {
		Sessions []string `json:"sessions"`
	}
	if err := json.Unmarshal(b, &s); err != nil || len(s.Sessions) == 0 {
		return fmt.Errorf("sessions: %s (%v)", b, err)
	}
	id := s.Sessions[len(s.Sessions)-1]
	if st, b := emu.control(t, "POST", "/_emulator/sessions/"+id, map[string]string{"status": status}); st != 200 {
		return fmt.Errorf("session %s: HTTP %d %s", id, st, b)
	}
	return nil
}

func TestPoll(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	pam := userPAM(t, c)
	fast := &idaas.PollOptions{OAuthOptions: idaas.OAuthOptions{ForceAuthentication: true}, Interval: 50 * time.Millisecond, MaxPollingRetries: 40}

	var urls []string
	r, err := pam.PollOAuthToken(ctx, drive3LO, fast, func(url string) error {
		urls = append(urls, url)
		return completeNewestSession(t, "completed")
	})
	if err != nil || r.OAuthAccessTokenContent == nil || r.OAuthAccessTokenContent.AccessTokenValue == "" || len(urls) != 1 || urls[0] == "" {
		t.Fatalf("poll: %+v %v %q", r, err, urls)
	}

	// a token at once: no callback
	called := false
	must[*idaas.OAuthAuthenticationTokenResponse](t)(pam.PollOAuthToken(ctx, drive2LO, nil, func(string) error { called = true; return nil }))
	if called {
		t.Error("callback called without a session")
	}

	// the user refuses
	_, err = pam.PollOAuthToken(ctx, drive3LO, fast, func(string) error { return completeNewestSession(t, "failed") })
	wantClass(t, err, idaas.ErrAuth)

	// out of polls
	_, err = pam.PollOAuthToken(ctx, drive3LO, &idaas.PollOptions{OAuthOptions: idaas.OAuthOptions{ForceAuthentication: true},
		Interval: 20 * time.Millisecond, MaxPollingRetries: 3}, nil)
	wantClass(t, err, idaas.ErrTimeout)

	// the callback aborts: its error comes back
	myErr := errors.New("user closed the browser")
	_, err = pam.PollOAuthToken(ctx, drive3LO, fast, func(string) error { return myErr })
	wantClass(t, err, idaas.ErrCancelled)
	if !errors.Is(err, myErr) {
		t.Errorf("want the callback's error, got %v", err)
	}
	_, err = pam.PollOAuthToken(ctx, drive3LO, fast, func(string) error { panic("callback panic") })
	wantClass(t, err, idaas.ErrCancelled)

	// a cancelled context wakes a sleeping poll (interval 10 s) promptly
	cctx, cancel := context.WithCancel(ctx)
	start := time.Now()
	_, err = pam.PollOAuthToken(cctx, drive3LO, &idaas.PollOptions{OAuthOptions: idaas.OAuthOptions{ForceAuthentication: true}, Interval: 10 * time.Second},
		func(string) error { time.AfterFunc(200*time.Millisecond, cancel); return nil })
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("cancelled poll returned after %v", took)
	}
	wantClass(t, err, idaas.ErrCancelled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
	// Close cancels a running poll
	closing := userPAM(t, c)
	start = time.Now()
	_, err = closing.PollOAuthToken(ctx, drive3LO, &idaas.PollOptions{OAuthOptions: idaas.OAuthOptions{ForceAuthentication: true}, Interval: 10 * time.Second},
		func(string) error { time.AfterFunc(200*time.Millisecond, func() { closing.Close() }); return nil })
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("poll of a closed client returned after %v", took)
	}
	wantClass(t, err, idaas.ErrCancelled)
	if !errors.Is(err, idaas.ErrClosed) {
		t.Errorf("want ErrClosed, got %v", err)
	}
	if _, err := closing.PollOAuthToken(ctx, drive3LO, nil, nil); !errors.Is(err, idaas.ErrClosed) {
		t.Errorf("poll after Close: %v", err)
	}

	// a deadline
	dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer dcancel()
	start = time.Now()
	_, err = pam.PollOAuthToken(dctx, drive3LO, &idaas.PollOptions{OAuthOptions: idaas.OAuthOptions{ForceAuthentication: true}, Interval: 10 * time.Second}, nil)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("poll past its deadline returned after %v", took)
	}
	wantClass(t, err, idaas.ErrTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want context.DeadlineExceeded, got %v", err)
	}
	_, err = pam.PollOAuthToken(ctx, drive3LO, &idaas.PollOptions{OAuthOptions: idaas.OAuthOptions{ForceAuthentication: true},
		Interval: time.Microsecond, Timeout: time.Nanosecond}, nil) // rounded up to 1 ms each
	wantClass(t, err, idaas.ErrTimeout)
}

func TestJWTLifecycle(t *testing.T) {
	e := needEmulator(t)
	ctx := context.Background()
	c := newClient(t)
	pam := newPAM(t, c, nil)
	g := must[*idaas.JWTTokenResponse](t)(pam.GenerateJWT(ctx, pamProvider, jwtSubject, []string{jwtAudience}, &idaas.JWTOptions{
		Expiration: 15 * time.Minute, IncludeDerivedShortToken: true, CustomClaims: map[string]any{"tenant": "acme", "tier": 2}}))
	jwt, dst := g.JWTContent.JWTValue, g.JWTContent.DerivedShortToken
	if jwt == "" || dst == "" || g.AuthenticationTokenID == "" || g.ConsumerID == "" {
		t.Fatalf("generate: %+v", g)
	}
	if got := must[*idaas.JWTContent](t)(pam.ObtainJWT(ctx, g.ConsumerID, g.AuthenticationTokenID)); got.JWTValue != jwt {
		t.Error("ObtainJWT differs")
	}
	if got := must[*idaas.JWTContent](t)(pam.ObtainJWTByShortToken(ctx, dst)); got.JWTValue != jwt {
		t.Error("ObtainJWTByShortToken differs")
	}
	valid := func(tok string) bool {
		t.Helper()
		return must[bool](t)(pam.ValidateToken(ctx, tok, ""))
	}
	if !valid(jwt) || !valid(dst) {
		t.Error("fresh token invalid")
	}
	noErr(t, pam.RevokeToken(ctx, jwt, ""))
	if valid(jwt) {
		t.Error("revoked token valid")
	}
	noErr(t, pam.ReinstateToken(ctx, jwt, "jwt"))
	if !valid(jwt) {
		t.Error("reinstated token invalid")
	}
	noErr(t, pam.RevokeTokensByConsumer(ctx, g.ConsumerID, pamProvider))
	if valid(jwt) {
		t.Error("revoked-by-consumer token valid")
	}
	noErr(t, pam.ReinstateTokensByConsumer(ctx, g.ConsumerID, pamProvider))
	if !valid(jwt) || valid("garbage-token") {
		t.Error("after reinstate by consumer")
	}

	// list: a second token, then every page through the iterator
	must[*idaas.JWTTokenResponse](t)(pam.GenerateJWT(ctx, pamProvider, jwtSubject, []string{jwtAudience}, nil))
	var ids []string
	for tok, err := range pam.ListTokens(ctx, g.ConsumerID, pamProvider, &idaas.ListOptions{MaxResults: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tok.AuthenticationTokenID)
	}
	if len(ids) < 2 {
		t.Errorf("listed %v", ids)
	}
	page := must[*idaas.AuthenticationTokenPage](t)(pam.ListTokensPage(ctx, g.ConsumerID, pamProvider, &idaas.ListOptions{MaxResults: 1}))
	if len(page.Entities) != 1 || page.NextToken == "" || page.TotalCount < 2 {
		t.Errorf("page %+v", page)
	}
	n := 0
	for range pam.ListTokens(ctx, g.ConsumerID, pamProvider, &idaas.ListOptions{MaxResults: 1}) {
		n++
		break // early stop
	}
	f := false
	for _, err := range pam.ListTokens(ctx, g.ConsumerID, pamProvider, &idaas.ListOptions{Revoked: &f, Expired: &f}) {
		if err != nil {
			t.Error(err)
		}
	}
	for _, err := range pam.ListTokens(ctx, g.ConsumerID, pamProvider, &idaas.ListOptions{MaxResults: -1}) {
		wantClass(t, err, idaas.ErrInvalidArgument)
	}

	// argument and server errors
	_, err := pam.GenerateJWT(ctx, pamProvider, "s", []string{"urn:cloud:idaas:x"}, nil)
	wantClass(t, err, idaas.ErrInvalidArgument)
	_, err = pam.GenerateJWT(ctx, "no_such_provider", "s", []string{"a"}, nil)
	wantClass(t, err, idaas.ErrClient)
	_, err = pam.ObtainJWT(ctx, g.ConsumerID, "atntkn_nope")
	wantClass(t, err, idaas.ErrClient)
	wantClass(t, pam.RevokeToken(ctx, "", ""), idaas.ErrInvalidArgument)
	wantClass(t, pam.ReinstateTokensByConsumer(ctx, g.ConsumerID, " "), idaas.ErrInvalidArgument)
	e.fault(t, "devapi:RevokeAuthenticationToken=status/502:1")
	if ie := wantClass(t, pam.RevokeToken(ctx, jwt, ""), idaas.ErrServer); ie.HTTPStatus != 502 {
		t.Errorf("502 %#v", ie)
	}
}

// 64 goroutines share one client and one PAM client; then Close races with calls in flight.
func TestConcurrency(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	pam := newPAM(t, c, nil)
	want := must[string](t)(c.Token(ctx))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				var err error
				var tok string
				switch {
				case j%10 == 9:
					_, _, err = pam.APIKey(ctx, apiKeyCred)
				case i%2 == 0:
					tok, err = c.Token(ctx)
				default:
					cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					tok, err = c.Token(cctx)
					cancel()
				}
				if err == nil && j%10 != 9 && tok != want {
					err = fmt.Errorf("token differs")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Close while 64 goroutines read: every call either succeeds or returns ErrClosed
	c2 := newClient(t)
	must[string](t)(c2.Token(ctx))
	var ok, closed atomic.Int64
	start := make(chan struct{})
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 200 {
				_, err := c2.Token(ctx)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, idaas.ErrClosed):
					closed.Add(1)
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	close(start)
	time.Sleep(time.Millisecond)
	c2.Close()
	c2.Close()
	wg.Wait()
	t.Logf("during Close: %d ok, %d ErrClosed", ok.Load(), closed.Load())
}

// examples/go (built by `make test` into IDAAS_GO_EXAMPLE_BIN) against the emulator.
func TestExampleProgram(t *testing.T) {
	e := needEmulator(t)
	bin := os.Getenv("IDAAS_GO_EXAMPLE_BIN")
	if bin == "" {
		t.Skip("IDAAS_GO_EXAMPLE_BIN not set (make test builds examples/go)")
	}
	out, err := exec.Command(bin, "-config", e.configPath).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	text := string(out)
	for _, want := range []string{"bearer token:", "API key openai_prod_key: sk-...", "generated atntkn_",
		"after generate:        active=true", "after revoke:          active=false", "after reinstate:       active=true"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, e.secret) || strings.Contains(text, apiKeyValue) {
		t.Errorf("a secret in the output:\n%s", text)
	}
	// exit status = the error's code group: a missing config is a config error (2)
	err = exec.Command(bin, "-config", "/nonexistent.json").Run()
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != 2 {
		t.Errorf("missing config: %v", err)
	}
}

// Forgotten handles are freed by their cleanups (no crash, no double free with Close).
func TestCleanupBackstop(t *testing.T) {
	gc := func(string) (string, time.Duration, error) { return "gc-token", time.Hour, nil }
	for i := range 200 {
		c, err := pluginClient(context.Background(), "go-gc", gc, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := must[*idaas.Provider](t)(c.Provider(""))
		if i%2 == 0 {
			c.Close() // half closed explicitly, half left to the cleanup
		}
		_ = p
	}
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// The binding identifies itself in the User-Agent (options userAgentSuffix), as seen by the server.
func TestUserAgent(t *testing.T) {
	e := needEmulator(t)
	e.control(t, "DELETE", "/_emulator/requests", nil)
	c, err := clientFromJSON(context.Background(), e.configJSON, &idaas.ClientOptions{UserAgentSuffix: "ua-test/1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	must[string](t)(c.Token(context.Background()))
	_, b := e.control(t, "GET", "/_emulator/requests?path_contains=token", nil)
	var log struct {
		Requests []struct {
			Headers [][2]string `json:"headers"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(b, &log); err != nil || len(log.Requests) == 0 {
		t.Fatalf("request log: %v %s", err, b)
	}
	ua := ""
	for _, h := range log.Requests[len(log.Requests)-1].Headers {
		if h[0] == "user-agent" {
			ua = h[1]
		}
	}
	if !strings.Contains(ua, "idaas-go ua-test/1") {
		t.Errorf("User-Agent %q", ua)
	}
}

// TestPluginReentrantCall: a plugin that asks its own client for the token it is fetching gets
// ErrReentrantCall at once (instead of a deadlock); asking the same client for another scope works.
func TestPluginReentrantCall(t *testing.T) {
	ctx := context.Background()
	const other = "api.example.com|other"
	var self atomic.Pointer[idaas.Client]
	var inner atomic.Pointer[error]
	c := must[*idaas.Client](t)(pluginClient(ctx, "go-reentrant", func(scope string) (string, time.Duration, error) {
		if scope == other {
			return "other-token", time.Hour, nil
		}
		if strings.HasSuffix(scope, "|use-other") {
			tok, err := self.Load().TokenForScope(context.Background(), other)
			return "via-" + tok, time.Hour, err
		}
		_, err := self.Load().Token(context.Background())
		inner.Store(&err)
		if err != nil {
			return "", 0, err
		}
		return "unreachable", time.Hour, nil
	}, nil))
	defer c.Close()
	self.Store(c)

	done := make(chan error, 1)
	go func() {
		_, err := c.Token(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		// The plugin returned the inner error: the outer call fails as a plugin failure.
		if e := wantClass(t, err, idaas.ErrCredential); !strings.Contains(e.Message, "re-entrant call") {
			t.Errorf("outer error %#v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a plugin calling back into its own client deadlocked")
	}
	p := inner.Load()
	if p == nil {
		t.Fatal("the plugin's inner call did not return")
	}
	e := wantClass(t, *p, idaas.ErrReentrantCall)
	wantClass(t, *p, idaas.ErrInvalidArgument)
	if e.Code != idaas.CodeReentrantCall || e.Code.String() != "reentrant_call" || e.ServerCode != "ReentrantCall" {
		t.Errorf("inner error %#v (%s)", e, e.Code)
	}

	// Another scope of the same client, from inside the plugin.
	got := must[string](t)(c.TokenForScope(ctx, "api.example.com|use-other"))
	if got != "via-other-token" {
		t.Errorf("token via another scope: %q", got)
	}
}
