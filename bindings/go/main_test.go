package idaas_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The emulator started by TestMain (nil when no binary is available).
var emu *emulator

type emulator struct {
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	dir        string
	httpBase   string
	configJSON string // CLIENT_SECRET_POST client config
	configPath string // the same, as a file
	secretEnv  string // the environment variable holding the client secret
	secret     string
	// The PLUGIN (alibabacloudPluginCredentialProvider) client config, and the variables the
	// emulator says a client needs for it (alibabaCloud.environment: an AccessKey of its fixtures,
	// its STS and metadata endpoints).
	pluginConfigJSON string
	alibabaEnv       map[string]string
}

// emulatorBin: IDAAS_EMULATOR_BIN, else $CARGO_TARGET_DIR/debug/idaas-emulator, else the
// repository's target/debug/idaas-emulator.
func emulatorBin() string {
	if b := os.Getenv("IDAAS_EMULATOR_BIN"); b != "" {
		return b
	}
	dirs := []string{}
	if d := os.Getenv("CARGO_TARGET_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, filepath.Join("..", "..", "target"))
	for _, d := range dirs {
		p := filepath.Join(d, "debug", "idaas-emulator")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func startEmulator(bin string) (*emulator, error) {
	dir, err := os.MkdirTemp("", "idaas-go-test-")
	if err != nil {
		return nil, err
	}
	ready := filepath.Join(dir, "ready.json")
	logf, err := os.Create(filepath.Join(dir, "emulator.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--port", "0", "--ready-file", ready, "--exit-on-stdin-eof")
	cmd.Stdout, cmd.Stderr = logf, logf
	stdin, err := cmd.StdinPipe() // closing it (or our death) stops the emulator
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	e := &emulator{cmd: cmd, stdin: stdin, dir: dir}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	var raw []byte
	for {
		if raw, err = os.ReadFile(ready); err == nil && len(raw) > 0 {
			break
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logf.Name())
			os.RemoveAll(dir)
			return nil, fmt.Errorf("emulator %s exited early (%v); log:\n%s", bin, err, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			e.stop()
			return nil, fmt.Errorf("emulator not ready in 60 s; log:\n%s", log)
		}
	}
	var info struct {
		HTTPBaseURL   string                     `json:"httpBaseUrl"`
		ClientSecret  string                     `json:"clientSecret"`
		ClientConfigs map[string]json.RawMessage `json:"clientConfigs"`
		AlibabaCloud  struct {
			Environment map[string]string `json:"environment"`
		} `json:"alibabaCloud"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		e.stop()
		return nil, fmt.Errorf("ready file: %w", err)
	}
	e.httpBase = strings.TrimRight(info.HTTPBaseURL, "/")
	e.secret = info.ClientSecret
	e.configJSON = string(info.ClientConfigs["CLIENT_SECRET_POST"])
	e.pluginConfigJSON = string(info.ClientConfigs["PLUGIN"])
	e.alibabaEnv = info.AlibabaCloud.Environment
	var cfg struct {
		Authn struct {
			SecretEnv string `json:"clientSecretEnvVarName"`
		} `json:"authnConfiguration"`
	}
	if err := json.Unmarshal([]byte(e.configJSON), &cfg); err != nil || cfg.Authn.SecretEnv == "" {
		e.stop()
		return nil, fmt.Errorf("no CLIENT_SECRET_POST config with clientSecretEnvVarName in the ready file")
	}
	e.secretEnv = cfg.Authn.SecretEnv
	e.configPath = filepath.Join(dir, "client-config.json")
	if err := os.WriteFile(e.configPath, []byte(e.configJSON), 0o600); err != nil {
		e.stop()
		return nil, err
	}
	os.Setenv(e.secretEnv, e.secret)
	os.Setenv("CLOUD_IDAAS_CONFIG_PATH", e.configPath) // the default lookup (and the Examples)
	return e, nil
}

func (e *emulator) stop() {
	e.stdin.Close()
	done := make(chan struct{})
	go func() { e.cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		e.cmd.Process.Kill()
	}
	os.RemoveAll(e.dir)
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if bin := emulatorBin(); bin != "" {
			e, err := startEmulator(bin)
			if err != nil {
				fmt.Fprintln(os.Stderr, "emulator:", err)
				return 1
			}
			emu = e
			defer e.stop()
		} else if os.Getenv("IDAAS_REQUIRE_EMULATOR") != "" {
			fmt.Fprintln(os.Stderr, "IDAAS_REQUIRE_EMULATOR is set but no idaas-emulator binary was found (set IDAAS_EMULATOR_BIN)")
			return 1
		} else {
			fmt.Fprintln(os.Stderr, "note: no idaas-emulator binary: emulator tests and examples are skipped")
			flag.Set("test.skip", "^Example$|^ExampleClient_|^ExamplePAMClient_")
		}
		return m.Run()
	}())
}

// needEmulator skips the test without an emulator.
func needEmulator(t testing.TB) *emulator {
	t.Helper()
	if emu == nil {
		t.Skip("no emulator (set IDAAS_EMULATOR_BIN)")
	}
	return emu
}

// control calls the emulator's control API (plain HTTP) and returns the status and body.
func (e *emulator) control(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.httpBase+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("control %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// fault adds a fault rule (emulator --fault syntax) until the end of the test.
func (e *emulator) fault(t testing.TB, spec string) {
	t.Helper()
	if st, b := e.control(t, "POST", "/_emulator/faults", map[string]string{"spec": spec}); st != 200 {
		t.Fatalf("adding fault %s: HTTP %d %s", spec, st, b)
	}
	t.Cleanup(func() { e.clearFaults(t) })
}

func (e *emulator) clearFaults(t testing.TB) { e.control(t, "DELETE", "/_emulator/faults", nil) }

// configWith returns the client config with top-level or httpConfiguration fields replaced.
func (e *emulator) configWith(t testing.TB, edit func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.configJSON), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ := json.Marshal(m)
	return string(b)
}
