package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestLargeBodiesTakeTurns checks that at most maxLargeBodies large
// bodies are decoded at once: a further one waits until a request
// holding a slot is done, and one whose client gives up while waiting
// fails without a slot.
func TestLargeBodiesTakeTurns(t *testing.T) {
	slots := make(chan struct{}, maxLargeBodies)
	newReq := func() (*http.Request, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.WithValue(t.Context(), largeBodySlotsKey{}, slots))
		r := httptest.NewRequest("POST", "/2015-03-31/functions", strings.NewReader(`{"FunctionName":"f"}`)).WithContext(ctx)
		return r, cancel
	}
	var done []context.CancelFunc
	for range maxLargeBodies {
		r, cancel := newReq()
		done = append(done, cancel)
		var v map[string]any
		if err := decodeJSON(r, &v); err != nil {
			t.Fatalf("decode with a free slot: %v", err)
		}
	}
	waiting, cancelWaiting := newReq()
	got := make(chan error, 1)
	go func() {
		var v map[string]any
		got <- decodeJSON(waiting, &v)
	}()
	select {
	case err := <-got:
		t.Fatalf("a decode past the slots did not wait (err %v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	done[0]() // the first request is done: its slot is given back
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("decode after a slot was freed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting decode did not get the freed slot")
	}
	gaveUp, cancelGaveUp := newReq()
	cancelGaveUp()
	var v map[string]any
	if err := decodeJSON(gaveUp, &v); err == nil {
		t.Fatal("a request whose client went away while waiting was decoded")
	}
	cancelWaiting()
	for _, c := range done[1:] {
		c()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(slots) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(slots); n != 0 {
		t.Fatalf("%d slots still taken after every request was done", n)
	}
}
