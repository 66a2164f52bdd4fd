package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// verifyDelivery waits, at most drain, until every accepted Event invoke
// has a final record and every accepted queue message and stream record
// reached the sink, and records a violation for each that did not.
func verifyDelivery(ctx context.Context, rep *report, ld *loader, sk *sink, drain time.Duration) {
	start := time.Now()
	deadline := start.Add(drain)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		verifyEvents(ctx, rep, ld, deadline)
	}()
	go func() {
		defer wg.Done()
		for _, kind := range []string{"queue", "stream"} {
			verifySeen(rep, ld.ledgers[kind], sk, deadline)
		}
	}()
	wg.Wait()
	rep.mu.Lock()
	rep.drainTook = time.Since(start)
	rep.mu.Unlock()

	// What the functions processed although the client saw the request
	// fail (a timeout after the durable write, say) is allowed: delivery
	// is at least once. It is reported, not counted as a loss.
	rep.mu.Lock()
	defer rep.mu.Unlock()
	rep.unacceptedProcessed = map[string]int{}
	for _, kind := range []string{"queue", "stream"} {
		acc := map[string]bool{}
		for _, a := range ld.ledgers[kind].acceptedIDs() {
			acc[a.id] = true
		}
		sk.mu.Lock()
		for id := range sk.seen[kind] {
			if !acc[id] {
				rep.unacceptedProcessed[kind]++
			}
		}
		sk.mu.Unlock()
	}
	rep.queueDeliveries, _ = sk.deliveries("queue")
	rep.streamDelivered, _ = sk.deliveries("stream")
	if n := sk.badReports(); n > 0 {
		rep.violations = append(rep.violations, fmt.Sprintf("the sink received %d reports it could not read", n))
	}
}

// verifyEvents reads the record of every accepted Event invoke.
func verifyEvents(ctx context.Context, rep *report, ld *loader, deadline time.Time) {
	accs := ld.ledgers["event"].acceptedIDs()
	type outcome struct {
		acc accepted
		rec *record
		err error
	}
	jobs := make(chan accepted)
	results := make(chan outcome)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for acc := range jobs {
				rec, err := waitRecord(ctx, ld.api, acc.requestID, max(time.Until(deadline), time.Second))
				results <- outcome{acc, rec, err}
			}
		}()
	}
	go func() {
		for _, a := range accs {
			jobs <- a
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	failed := map[string]int{}
	var problems []string
	final, succeeded := 0, 0
	for o := range results {
		switch {
		case o.err != nil:
			problems = append(problems, fmt.Sprintf("Event invoke %s (id %s) was accepted (202) but has no final record: %v", o.acc.requestID, o.acc.id, o.err))
		case o.rec.Status == "SUCCEEDED":
			final++
			var got struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(o.rec.Result, &got); err != nil || got.ID != o.acc.id {
				problems = append(problems, fmt.Sprintf("Event invoke %s SUCCEEDED with result %s, not the id %s it was sent", o.acc.requestID, o.rec.Result, o.acc.id))
			} else {
				succeeded++
			}
		default:
			final++
			failed[o.rec.Condition]++
			problems = append(problems, fmt.Sprintf("Event invoke %s (id %s) FAILED after %d attempts: %s %s (the function never fails by itself)",
				o.acc.requestID, o.acc.id, o.rec.Attempts, o.rec.Condition, o.rec.Error))
		}
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	rep.eventFinal, rep.eventSucceeded, rep.eventFailed = final, succeeded, failed
	rep.violations = append(rep.violations, capped(problems, 10)...)
}

// verifySeen waits until the sink saw every accepted id of the ledger.
func verifySeen(rep *report, l *ledger, sk *sink, deadline time.Time) {
	accs := l.acceptedIDs()
	var missing []string
	for {
		missing = missing[:0]
		for _, a := range accs {
			if sk.count(l.kind, a.id) == 0 {
				missing = append(missing, a.id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if l.kind == "queue" {
		rep.queueSeen = len(accs) - len(missing)
	} else {
		rep.streamSeen = len(accs) - len(missing)
	}
	if len(missing) > 0 {
		rep.violations = append(rep.violations, fmt.Sprintf("%d of %d accepted %s ids never reached the function: %s",
			len(missing), len(accs), l.kind, strings.Join(capped(missing, 10), ", ")))
	}
}

// checkResources turns the figures into violations.
func checkResources(rep *report, cfg config, srv *server, syncLedger *ledger) {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	v := func(format string, args ...any) {
		rep.violations = append(rep.violations, fmt.Sprintf(format, args...))
	}
	syncLedger.mu.Lock()
	for _, w := range capped(syncLedger.wrong, 10) {
		v("a sync invoke was answered with another request's result: %s", w)
	}
	syncLedger.mu.Unlock()
	if rep.rssMax >= cfg.rssLimit {
		v("server RSS reached %d MiB (incarnation %d), over the bound of %d MiB", rep.rssMax>>20, rep.rssIncarnation, cfg.rssLimit>>20)
	}
	b, e, s := rep.baseline, rep.end, rep.afterStop
	if len(e.children) > len(b.children) {
		v("the server holds %d processes after the soak, %d at the baseline: %s", len(e.children), len(b.children), procNames(e.children))
	}
	if len(e.orphans) > 0 {
		v("processes of killed servers still run after the soak: %s", procNames(e.orphans))
	}
	if inc := srv.incarnations(); len(inc) > 0 {
		last := inc[len(inc)-1].pid
		if dead := e.deadCgroups(last); len(dead) > 0 {
			v("cgroups of killed servers remain after the soak: %s", strings.Join(dead, ", "))
		}
		if e.liveCgroups(last) > b.liveCgroups(inc[0].pid) {
			v("the server holds %d cgroup dirs after the soak, %d at the baseline", e.liveCgroups(last), b.liveCgroups(inc[0].pid))
		}
	}
	if e.fds > b.fds+cfg.fdSlack {
		v("the server holds %d open files after the soak, %d at the baseline (slack %d): %s", e.fds, b.fds, cfg.fdSlack, fdGrowth(b.fdKinds, e.fdKinds))
	}
	if len(e.spool) > 0 {
		v("%d spool files remain in <data-dir>/spool with no request in flight: %s", len(e.spool), strings.Join(capped(e.spool, 10), ", "))
	}
	if len(s.orphans) > 0 {
		v("processes remain after the server stopped: %s", procNames(s.orphans))
	}
	if dead := s.deadCgroups(0); len(dead) > 0 {
		v("cgroups remain after the server stopped: %s", strings.Join(dead, ", "))
	}
	for i, f := range rep.fills {
		if !f.recovered {
			v("full disk %d: the server did not recover within %s of space being freed, without a restart (issue 11 item 4): %s", i+1, cfg.recoverWithin, strings.Join(f.stillFailing, "; "))
		}
	}
	for i, c := range rep.floods {
		if len(c.probeFailures) > 0 {
			v("connections %d: %d of %d new clients' invokes failed at the connection cap, e.g. %s", i+1, len(c.probeFailures), len(c.probes), c.probeFailures[0])
		}
	}
	for i, k := range rep.kills {
		if len(k.spoolLeft) > 0 {
			v("kill %d: the killed server's spool files survived the restart: %v", i+1, k.spoolLeft)
		}
	}
}

// capped keeps the first n strings and says how many more there were.
func capped(ss []string, n int) []string {
	if len(ss) <= n {
		return ss
	}
	return append(ss[:n:n], fmt.Sprintf("... and %d more", len(ss)-n))
}
