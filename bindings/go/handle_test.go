package idaas

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestHandleCloseRacesCalls: calls race with close; the handle is freed exactly
// once, never while a call holds it, and no call gets it after close returned.
func TestHandleCloseRacesCalls(t *testing.T) {
	for round := range 200 {
		var inside, frees atomic.Int64
		var h *handle[int]
		h = newHandle(round, func(int) {
			if n := inside.Load(); n != 0 {
				t.Errorf("round %d: freed with %d calls inside", round, n)
			}
			frees.Add(1)
		})
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range 200 {
					if _, ok := h.acquire(); !ok {
						return
					}
					inside.Add(1)
					if frees.Load() != 0 {
						t.Errorf("round %d: a call holds a freed handle", round)
					}
					inside.Add(-1)
					h.release()
				}
			}()
		}
		close(start)
		if round%2 == 0 {
			h.close()
			if _, ok := h.acquire(); ok {
				t.Fatalf("round %d: acquire after close succeeded", round)
			}
		}
		wg.Wait()
		h.close()
		h.close() // idempotent
		if n := frees.Load(); n != 1 {
			t.Fatalf("round %d: freed %d times", round, n)
		}
	}
}

// TestHandleCloseWhileHeld: close while several calls hold the handle frees it only when the
// last of them releases it.
func TestHandleCloseWhileHeld(t *testing.T) {
	for round := range 50 {
		var inside, frees atomic.Int64
		h := newHandle(round, func(int) {
			if n := inside.Load(); n != 0 {
				t.Errorf("round %d: freed with %d calls inside", round, n)
			}
			frees.Add(1)
		})
		var holding, done sync.WaitGroup
		release := make(chan struct{})
		for range 8 {
			holding.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				if _, ok := h.acquire(); !ok {
					t.Errorf("round %d: acquire before close failed", round)
					holding.Done()
					return
				}
				inside.Add(1)
				holding.Done()
				<-release
				inside.Add(-1)
				h.release()
			}()
		}
		holding.Wait()
		h.close()
		if frees.Load() != 0 {
			t.Fatalf("round %d: close freed a held handle", round)
		}
		close(release)
		done.Wait()
		if n := frees.Load(); n != 1 {
			t.Fatalf("round %d: freed %d times", round, n)
		}
	}
}
