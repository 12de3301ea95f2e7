package idaas_test

// The built-in PLUGIN alibabacloudPluginCredentialProvider through the Go binding: the emulator's
// PLUGIN config, used as it is (no plugin registered, no extra code), gets its token from the
// emulator's EIAM OpenAPI (GenerateOauthToken); then the documented errors (alibaba-plugin.md §7.1)
// and the precedence of a registered plugin (D-44).
//
// The credential chain reads the process environment when a client is made (§2.1). With cgo,
// os.Setenv and os.Unsetenv change the C environment the library reads, and these tests do not run
// in parallel (t.Setenv refuses t.Parallel), so each test sets the variables before it makes its
// client and t.Setenv puts them back.

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	idaas "github.com/idaas-sdk/idaas/bindings/go"
)

const alibabaPlugin = "alibabacloudPluginCredentialProvider"

// alibabaEnv leaves the credential chain only the variables of vars: every ALIBABA_CLOUD_* and
// IDAAS_ALIBABA_CLOUD_* variable of the process is removed and HOME is a new empty directory (no
// profile file of the machine is read); everything is restored when the test ends. Returns HOME.
func alibabaEnv(t *testing.T, vars map[string]string) string {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "ALIBABA_CLOUD_") || strings.HasPrefix(name, "IDAAS_ALIBABA_CLOUD_") {
			t.Setenv(name, "") // registers the restore of the old value
			os.Unsetenv(name)
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for k, v := range vars {
		t.Setenv(k, v)
	}
	return home
}

// emulatorAlibabaEnv is the emulator's alibabaCloud.environment with some variables replaced
// (an empty value removes the variable).
func emulatorAlibabaEnv(t *testing.T, e *emulator, replace map[string]string) map[string]string {
	t.Helper()
	if e.alibabaEnv["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "" || e.alibabaEnv["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] == "" {
		t.Fatalf("the ready file's alibabaCloud.environment has no AccessKey: %v", e.alibabaEnv)
	}
	vars := map[string]string{}
	for k, v := range e.alibabaEnv {
		vars[k] = v
	}
	for k, v := range replace {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	return vars
}

// openAPICalls lists the x-acs-credentials-provider of every GenerateOauthToken request the
// emulator logged since the log was last cleared.
func (e *emulator) openAPICalls(t *testing.T) []string {
	t.Helper()
	st, body := e.control(t, "GET", "/_emulator/requests", nil)
	if st != 200 {
		t.Fatalf("request log: HTTP %d", st)
	}
	var log struct {
		Requests []struct {
			Headers [][2]string `json:"headers"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(body, &log); err != nil {
		t.Fatal(err)
	}
	calls := []string{}
	for _, r := range log.Requests {
		action, provider := "", ""
		for _, h := range r.Headers {
			switch h[0] {
			case "x-acs-action":
				action = h[1]
			case "x-acs-credentials-provider":
				provider = h[1]
			}
		}
		if action == "GenerateOauthToken" {
			calls = append(calls, provider)
		}
	}
	return calls
}

func (e *emulator) clearRequests(t *testing.T) { e.control(t, "DELETE", "/_emulator/requests", nil) }

// alibabaClient makes a client of the emulator's PLUGIN config (closed when the test ends).
func alibabaClient(t *testing.T, configJSON string) *idaas.Client {
	t.Helper()
	c, err := clientFromJSON(context.Background(), configJSON, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAlibabaPluginEnvironmentKey(t *testing.T) {
	e := needEmulator(t)
	ctx := context.Background()
	alibabaEnv(t, emulatorAlibabaEnv(t, e, nil))
	e.clearRequests(t)
	c := alibabaClient(t, e.pluginConfigJSON)
	tok := must[string](t)(c.Token(ctx))
	if strings.Count(tok, ".") != 2 { // the emulator's access tokens are JWTs
		t.Errorf("token %q is not a JWT", tok)
	}
	pam := newPAM(t, c, nil)
	key, found, err := pam.APIKey(ctx, apiKeyCred)
	if err != nil || !found || key != apiKeyValue {
		t.Fatalf("APIKey through the PLUGIN client: %q %v %v", key, found, err)
	}
	// One OpenAPI call, signed with the environment's key; PAM used the cached token.
	if calls := e.openAPICalls(t); len(calls) != 1 || calls[0] != "default/env" {
		t.Errorf("GenerateOauthToken calls: %v", calls)
	}
}

func TestAlibabaPluginWrongSecret(t *testing.T) {
	e := needEmulator(t)
	const wrong = "wrong-alibaba-secret-from-the-go-test"
	alibabaEnv(t, emulatorAlibabaEnv(t, e, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET": wrong}))
	e.clearRequests(t)
	c := alibabaClient(t, e.pluginConfigJSON)
	_, err := c.Token(context.Background())
	ae := wantClass(t, err, idaas.ErrAuth)
	if ae.Code != idaas.CodeAuth || ae.ServerCode != "SignatureDoesNotMatch" || ae.HTTPStatus != 400 || ae.RequestID == "" {
		t.Errorf("wrong secret: %#v", ae)
	}
	if msg := err.Error(); strings.Contains(msg, wrong) || strings.Contains(msg, e.alibabaEnv["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]) {
		t.Error("a secret in the message")
	}
	if ae.Retryable() {
		t.Error("a refused signature is not retryable")
	}
	if calls := e.openAPICalls(t); len(calls) != 1 {
		t.Errorf("a refused key is not retried: %v", calls)
	}
}

func TestAlibabaPluginNoCredentials(t *testing.T) {
	e := needEmulator(t)
	home := alibabaEnv(t, emulatorAlibabaEnv(t, e, map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":         "",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET":     "",
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
	}))
	e.clearRequests(t)
	c := alibabaClient(t, e.pluginConfigJSON)
	_, err := c.Token(context.Background())
	ce := wantClass(t, err, idaas.ErrCredential)
	if ce.ServerCode != "AlibabaCloudCredentialsNotFound" || ce.HTTPStatus != 0 {
		t.Errorf("no credentials: %#v", ce)
	}
	// Every source, in order, with why it gave nothing (the profile files under our HOME).
	for _, want := range []string{
		"default/env", "ALIBABA_CLOUD_ACCESS_KEY_ID", "default/oidc_role_arn", "default/cli_profile",
		"default/profile", home, "default/ecs_ram_role", "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
		"default/credential_uri",
	} {
		if !strings.Contains(ce.Message, want) {
			t.Errorf("the message does not name %q: %s", want, ce.Message)
		}
	}
	if calls := e.openAPICalls(t); len(calls) != 0 {
		t.Errorf("OpenAPI called without a key: %v", calls)
	}
}

func TestAlibabaPluginNeedsOpenAPIEndpoint(t *testing.T) {
	e := needEmulator(t)
	alibabaEnv(t, emulatorAlibabaEnv(t, e, nil))
	var m map[string]any
	noErr(t, json.Unmarshal([]byte(e.pluginConfigJSON), &m))
	delete(m, "openApiEndpoint")
	b, _ := json.Marshal(m)
	// The config parses; making the client fails, before any request.
	cfg := must[*idaas.Config](t)(idaas.ParseConfig(string(b)))
	defer cfg.Close()
	_, err := idaas.NewClient(context.Background(), cfg, nil)
	ce := wantClass(t, err, idaas.ErrConfig)
	if ce.Code != idaas.CodeConfig || ce.ServerCode != "OpenApiEndpointNotFound" || !strings.Contains(ce.Message, alibabaPlugin) {
		t.Errorf("no openApiEndpoint: %#v", ce)
	}
}

func TestAlibabaPluginRegisteredWins(t *testing.T) {
	e := needEmulator(t)
	// The environment's key would work: the registered plugin is chosen, not tried after it.
	alibabaEnv(t, emulatorAlibabaEnv(t, e, nil))
	e.clearRequests(t)
	cfg := must[*idaas.Config](t)(idaas.ParseConfig(e.pluginConfigJSON))
	defer cfg.Close()
	var calls atomic.Int64 // the plugin runs on the library's thread
	noErr(t, cfg.AddPlugin(alibabaPlugin, func(string) (string, time.Duration, error) {
		calls.Add(1)
		return "from-the-go-plugin", time.Hour, nil
	}))
	c := must[*idaas.Client](t)(idaas.NewClient(context.Background(), cfg, nil))
	defer c.Close()
	if tok := must[string](t)(c.Token(context.Background())); tok != "from-the-go-plugin" || calls.Load() != 1 {
		t.Errorf("token %q after %d plugin calls", tok, calls.Load())
	}
	if oc := e.openAPICalls(t); len(oc) != 0 {
		t.Errorf("the built-in plugin was used too: %v", oc)
	}
}
