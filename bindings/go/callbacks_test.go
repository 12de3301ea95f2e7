package idaas

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

// A PLUGIN configuration (no server needed): the plugin "go-internal".
const internalPluginConfig = `{"idaasInstanceId":"idaas_go","clientId":"app_go",
	"issuer":"http://127.0.0.1:9/api/v2/iauths_system/oauth2",
	"tokenEndpoint":"http://127.0.0.1:9/api/v2/iauths_system/oauth2/token",
	"authnConfiguration":{"authnMethod":"PLUGIN","pluginName":"go-internal"}}`

func staticPlugin(token string) PluginFunc {
	return func(string) (string, time.Duration, error) { return token, time.Hour, nil }
}

// waitCallbacks waits until liveCallbacks is want: the library may release a callback on one of
// its threads a moment after the last handle using it went away.
func waitCallbacks(t *testing.T, want int64, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for liveCallbacks.Load() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d callbacks held, want %d", what, liveCallbacks.Load(), want)
		}
		runtime.GC() // run the cleanups of unreachable handles
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCallbacksReleased: a plugin or logger added to a Config is released (its cgo.Handle
// deleted) once neither the Config nor any client made from it needs it — no registry that
// grows for the life of the process.
func TestCallbacksReleased(t *testing.T) {
	ctx := context.Background()
	base := liveCallbacks.Load()

	cfg, err := ParseConfig(internalPluginConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.AddPlugin("go-internal", staticPlugin("first")); err != nil {
		t.Fatal(err)
	}
	waitCallbacks(t, base+1, "one plugin added")
	// Adding the name again replaces the plugin: the first one is no longer needed.
	if err := cfg.AddPlugin("go-internal", staticPlugin("second")); err != nil {
		t.Fatal(err)
	}
	waitCallbacks(t, base+1, "plugin replaced")
	// Failed calls keep nothing.
	if err := cfg.AddPlugin(" ", staticPlugin("x")); err == nil {
		t.Fatal("blank plugin name accepted")
	}
	if err := cfg.SetLogger(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	waitCallbacks(t, base+2, "plugin and logger")

	c, err := NewClient(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := c.Token(ctx); err != nil || tok != "second" {
		t.Fatalf("token %q, %v", tok, err)
	}
	cfg.Close()
	// The client still uses both.
	waitCallbacks(t, base+2, "config closed, client alive")
	if tok, err := c.Token(ctx); err != nil || tok != "second" {
		t.Fatalf("token after the config was closed %q, %v", tok, err)
	}
	c.Close()
	waitCallbacks(t, base, "config and client closed")

	// Removing a config's logger releases it at once (no client uses it).
	cfg2, err := ParseConfig(internalPluginConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg2.Close()
	if err := cfg2.SetLogger(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	waitCallbacks(t, base+1, "logger set")
	if err := cfg2.SetLogger(nil); err != nil {
		t.Fatal(err)
	}
	waitCallbacks(t, base, "logger removed")
}

// TestCallbacksReleasedByCleanup: configs and clients that are never closed release their
// callbacks through the cleanup backstop once unreachable.
func TestCallbacksReleasedByCleanup(t *testing.T) {
	ctx := context.Background()
	base := liveCallbacks.Load()
	func() {
		for range 20 {
			cfg, err := ParseConfig(internalPluginConfig)
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.AddPlugin("go-internal", staticPlugin("gc")); err != nil {
				t.Fatal(err)
			}
			c, err := NewClient(ctx, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Token(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}()
	waitCallbacks(t, base, "unreachable configs and clients")
}

// TestProcessLoggerReplaced: SetLogger deletes the handle of the logger it replaces.
func TestProcessLoggerReplaced(t *testing.T) {
	defer SetLogger(nil)
	if err := SetLogger(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	first := processLogger
	if err := SetLogger(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if processLogger == first || processLogger == 0 {
		t.Fatal("the process logger was not replaced")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the replaced logger's handle is still valid")
			}
		}()
		first.Value() // panics for a deleted handle
	}()
	if err := SetLogger(nil); err != nil || processLogger != 0 {
		t.Fatalf("SetLogger(nil): %v, handle %v", err, processLogger)
	}
}

// TestKnownCodes: every code of the generated table is one the library names and classifies.
func TestKnownCodes(t *testing.T) {
	classes := map[Class]bool{ClassArgument: true, ClassConfig: true, ClassAuthentication: true,
		ClassServerReply: true, ClassNetwork: true, ClassCancelled: true, ClassInternal: true}
	for _, c := range knownCodes {
		if c.String() == "unknown" {
			t.Errorf("code %d: unknown to the library", c)
		}
		if c == CodeOK {
			if c.Class() != ClassOK {
				t.Errorf("CodeOK: class %d", c.Class())
			}
		} else if !classes[c.Class()] {
			t.Errorf("code %d (%s): class %d", c, c, c.Class())
		}
	}
}
