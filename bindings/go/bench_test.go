package idaas_test

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	idaas "github.com/idaas-sdk/idaas/bindings/go"
)

// benchScope is the explicit scope of the scoped rows.
const benchScope = "api.example.com|read:file"

var (
	benchOnce   sync.Once
	benchClient *idaas.Client
	benchErr    error
)

// benchmarkClient is a PLUGIN client with a 1,100-byte token (as examples/c/bench.c): no server,
// so after the first call every read is a cache hit — what the benchmark measures.
func benchmarkClient(b *testing.B) *idaas.Client {
	benchOnce.Do(func() {
		token := strings.Repeat("x", 1100)
		benchClient, benchErr = pluginClient(context.Background(), "go-bench", func(string) (string, time.Duration, error) {
			return token, time.Hour, nil
		}, &idaas.ClientOptions{Prefetch: true})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchClient
}

// BenchmarkCachedToken: Client.Token (a Go string) from the cache, context.Background().
func BenchmarkCachedToken(b *testing.B) {
	c := benchmarkClient(b)
	ctx := context.Background()
	b.Run("Token", func(b *testing.B) {
		b.ReportAllocs()
		batched(b, func() {
			if _, err := c.Token(ctx); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("AppendToken", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		batched(b, func() {
			var err error
			if buf, err = c.AppendToken(ctx, buf[:0], ""); err != nil {
				b.Fatal(err)
			}
		})
		clear(buf)
	})
	b.Run("Token/parallel", func(b *testing.B) {
		b.ReportAllocs()
		batchedParallel(b, func() func() {
			return func() {
				if _, err := c.Token(ctx); err != nil {
					b.Error(err)
				}
			}
		})
	})
	b.Run("AppendToken/parallel", func(b *testing.B) {
		b.ReportAllocs()
		batchedParallel(b, func() func() {
			buf := make([]byte, 0, 4096)
			return func() {
				var err error
				if buf, err = c.AppendToken(ctx, buf[:0], ""); err != nil {
					b.Error(err)
				}
			}
		})
	})
	// A scope's provider: its Token reuses the string while the token is unchanged, as Token.
	b.Run("Provider.Token", func(b *testing.B) {
		p, err := c.Provider(benchScope)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		b.ReportAllocs()
		batched(b, func() {
			if _, err := p.Token(ctx); err != nil {
				b.Fatal(err)
			}
		})
	})
	// A cancellable context costs a goroutine per call (see Client.Token).
	b.Run("Token/cancellable-ctx", func(b *testing.B) {
		b.ReportAllocs()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for b.Loop() {
			if _, err := c.Token(cctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// batched runs f b.N times in batches of 1,000 and also reports the median batch's ns/op
// ("median-ns/op", as examples/c/bench.c does): robust against a loaded machine, where the mean
// (ns/op) includes every preemption.
func batched(b *testing.B, f func()) {
	const batch = 1000
	var per []float64
	for i := 0; i < b.N; {
		n := min(batch, b.N-i)
		start := time.Now()
		for range n {
			f()
		}
		if n == batch {
			per = append(per, float64(time.Since(start).Nanoseconds())/batch)
		}
		i += n
	}
	if len(per) > 0 {
		slices.Sort(per)
		b.ReportMetric(per[len(per)/2], "median-ns/op")
	}
}

// batchedParallel is batched under b.RunParallel (newF makes each goroutine's function): each
// goroutine times its own batches of 1,000 calls; the median of all those batches is the per-call
// latency of one goroutine while GOMAXPROCS of them run (what examples/c/bench.c and the Java
// TokenBench report for N threads). It is reported divided by GOMAXPROCS, in the unit of the ns/op
// column (RunParallel's ns/op is wall time over all calls); scripts/bench_report.py multiplies it
// back by the -P suffix. With more goroutines than CPUs the quotient is not a throughput: use ns/op.
func batchedParallel(b *testing.B, newF func() func()) {
	const batch = 1000
	var mu sync.Mutex
	var per []float64
	b.RunParallel(func(pb *testing.PB) {
		f := newF() // per goroutine
		var local []float64
		n := 0
		start := time.Now()
		for pb.Next() {
			f()
			if n++; n == batch {
				local = append(local, float64(time.Since(start).Nanoseconds())/batch)
				n = 0
				start = time.Now()
			}
		}
		mu.Lock()
		per = append(per, local...)
		mu.Unlock()
	})
	if len(per) > 0 {
		slices.Sort(per)
		b.ReportMetric(per[len(per)/2]/float64(runtime.GOMAXPROCS(0)), "median-ns/op")
	}
}

// BenchmarkCachedTokenForScope: TokenForScope with an explicit scope (a new string per call;
// the Provider.Token row of BenchmarkCachedToken is the memorised read of a scope).
func BenchmarkCachedTokenForScope(b *testing.B) {
	c := benchmarkClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	batched(b, func() {
		if _, err := c.TokenForScope(ctx, benchScope); err != nil {
			b.Fatal(err)
		}
	})
}
