package idaas

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// internalPluginClient is a client of internalPluginConfig served by fn.
func internalPluginClient(t *testing.T, fn PluginFunc) *Client {
	t.Helper()
	cfg, err := ParseConfig(internalPluginConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	if err := cfg.AddPlugin("go-internal", fn); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestTokenMemo: while the library's cached token is unchanged, Token and Provider.Token return
// the string they returned before — same bytes, no allocation, no copy.
func TestTokenMemo(t *testing.T) {
	ctx := context.Background()
	token := strings.Repeat("m", 1100)
	c := internalPluginClient(t, staticPlugin(token))
	p, err := c.Provider("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for name, get := range map[string]func(context.Context) (string, error){"client": c.Token, "provider": p.Token} {
		first, err := get(ctx)
		if err != nil || first != token {
			t.Fatalf("%s: %d bytes, %v", name, len(first), err)
		}
		again, _ := get(ctx)
		if unsafe.StringData(again) != unsafe.StringData(first) {
			t.Errorf("%s: the unchanged token was copied again", name)
		}
		if n := testing.AllocsPerRun(100, func() { get(ctx) }); n != 0 {
			t.Errorf("%s: %v allocations per cached Token", name, n)
		}
	}
	// Another scope has no memo: correct, but a new string each time.
	a, _ := c.TokenForScope(ctx, "api.example.com|x")
	b, _ := c.TokenForScope(ctx, "api.example.com|x")
	if a != token || b != token {
		t.Errorf("scoped tokens %d, %d bytes", len(a), len(b))
	}
}

// TestTokenMemoFollowsChanges: a token the library replaces (here on every call: lifetime 0 is
// never cached, so each read fetches a new one with a new version) is returned new each time,
// never the memorised one; so is a static provider's (no versions: nothing is memorised).
func TestTokenMemoFollowsChanges(t *testing.T) {
	ctx := context.Background()
	var n atomic.Int64
	c := internalPluginClient(t, func(string) (string, time.Duration, error) {
		// sizes change too, some beyond the pooled buffer (read again into one of their size)
		i := n.Add(1)
		return fmt.Sprintf("v%d-%s", i, strings.Repeat("x", int(i%3)*2500)), 0, nil
	})
	p, err := c.Provider("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	seen := map[string]bool{}
	for i := range 9 {
		var got string
		if i%2 == 0 {
			got, err = c.Token(ctx)
		} else {
			got, err = p.Token(ctx)
		}
		if err != nil || seen[got] || !strings.HasPrefix(got, fmt.Sprintf("v%d-", n.Load())) {
			t.Fatalf("read %d: %.12q (%d bytes), %v; plugin calls %d", i, got, len(got), err, n.Load())
		}
		seen[got] = true
	}

	s, err := NewStaticProvider("static-token", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 {
		if got, err := s.Token(ctx); err != nil || got != "static-token" {
			t.Fatalf("static provider %q, %v", got, err)
		}
	}
	if s.memo.last.Load() != nil {
		t.Error("a token without a version was memorised")
	}
	c.Close()
	if c.memo.last.Load() != nil {
		t.Error("Close kept the memorised token")
	}
}
