package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// TestForgedUploadsAreBounded sends large CreateFunction bodies the way an
// attacker would, many at once: with an access key id the server does not
// know, nothing reaches the disk; with a known key id and a made-up
// signature, what the server holds before it can refuse them stays within
// --auth-spool-max-mb. Every one is refused, and the spool is empty after.
func TestForgedUploadsAreBounded(t *testing.T) {
	const (
		budgetMB = 80
		uploads  = 8
		bodySize = 30 << 20
	)
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--auth-spool-max-mb", fmt.Sprint(budgetMB)}})
	spool := filepath.Join(srv.DataDir, "spool")
	body := bytes.Repeat([]byte("x"), bodySize)

	// forged sends one upload signed with keyID and a signature that
	// cannot be right, and returns the status (0 when the server closed
	// the connection before answering, which a refusal may do).
	forged := func(keyID string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/2015-03-31/functions", bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return -1
		}
		now := time.Now().UTC()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
		req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=%064x",
			keyID, now.Format("20060102"), 1))
		client := &http.Client{Timeout: time.Minute}
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	// attack runs the uploads at once while sampling the spool's size,
	// and returns the largest size seen and the statuses.
	attack := func(keyID string) (peak int64, statuses map[int]int) {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			maxSeen atomic.Int64
			done    = make(chan struct{})
		)
		statuses = map[int]int{}
		go func() {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				if n := dirBytes(spool); n > maxSeen.Load() {
					maxSeen.Store(n)
				}
				select {
				case <-done:
					return
				case <-tick.C:
				}
			}
		}()
		for range uploads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code := forged(keyID)
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(done)
		return maxSeen.Load(), statuses
	}

	peak, statuses := attack("AKIAUNKNOWNKEY000001")
	t.Logf("unknown key id: statuses %v, spool peak %d bytes", statuses, peak)
	if peak != 0 {
		t.Errorf("uploads signed with an unknown key id wrote %d bytes to %s, want none", peak, spool)
	}
	for code := range statuses {
		if code != http.StatusForbidden && code != 0 {
			t.Errorf("an upload signed with an unknown key id got %d, want 403", code)
		}
	}

	peak, statuses = attack(srv.AccessKeyID)
	t.Logf("known key id, wrong signature: statuses %v, spool peak %d bytes", statuses, peak)
	if peak > budgetMB<<20 {
		t.Errorf("spool peaked at %d bytes, over the %d MB budget", peak, budgetMB)
	}
	if peak == 0 {
		t.Errorf("nothing was spooled: the test no longer exercises the budget (bodies of %d bytes)", bodySize)
	}
	for code, n := range statuses {
		switch code {
		case http.StatusForbidden, http.StatusServiceUnavailable, 0:
		default:
			t.Errorf("%d uploads with a wrong signature got %d, want 403 or 503", n, code)
		}
	}
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no upload was turned away for the budget (statuses %v): %d × %d bytes exceed %d MB", statuses, uploads, bodySize, budgetMB)
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		if n := dirBytes(spool); n != 0 {
			return fmt.Errorf("%d bytes left in %s", n, spool)
		}
		return nil
	})

	// The server still serves a proper request.
	if _, err := srv.Lambda().ListFunctions(t.Context(), nil); err != nil {
		t.Fatalf("a signed request after the attack: %v", err)
	}
}

// dirBytes is the size of the regular files in dir (0 if it is missing).
func dirBytes(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}
