// Command bench measures updraft against the machine's own floor and
// prints ratios, because shared build machines are noisy and absolute
// numbers mean little on their own.
//
//	go run ./bench            # or: make bench
//	go run ./bench -only c64  # one phase (latency, c8, c64, auth, dynamodb, cold, async)
//
// It builds the updraft binary and an aws-lambda-go echo function, starts
// `updraft server --auth none` on a loopback port with a temporary data
// dir, and measures, each figure beside a floor, in -rounds interleaved
// rounds (the floor and updraft one after the other in each round, the
// order swapped every round), reporting the medians and the median of the
// rounds' ratios with their range:
//
//   - latency: a plain Go HTTP round trip to another process on loopback
//     (the floor) and a warm synchronous invoke of the echo function, p50
//     and p99 at concurrency 1;
//   - throughput at concurrency 8 and 64, and at concurrency 8 the CPU
//     time of each server process (user+system from /proc/PID/stat, not
//     the functions' processes) per request answered;
//   - a warm invoke signed by an IAM user whose policy is evaluated,
//     against --auth none, on two servers;
//   - DynamoDB: PutItem and GetItem (strongly consistent) p50 at
//     concurrency 1 and throughput at concurrency 8, on a 1,000-item
//     table, beside the floor;
//   - cold starts, each against what the same work costs without
//     updraft: the first invoke of fresh Go echo functions against the
//     same bootstrap exec'd directly against a stub Runtime API (exec →
//     first response), and of trivial Python and Node handlers against
//     `python3 -c pass` and `node -e 0` run in an empty environment with
//     the very interpreter updraft runs them with (exec → exit);
//   - asynchronous (Event) invocation: the 202 round trip (p50/p99 at
//     concurrency 1); accept→start latency on a warm environment, from
//     the record's receivedAt to the echo function's own clock reading
//     at handler entry (p50/p99 over -async-samples sequential events,
//     each awaited with ?wait=); and the durable accept rate, 202s per
//     second at concurrency 1 and 32 beside the floor's throughput, with
//     the engine draining the queue in the background. After each accept
//     run the bench waits (at most -async-drain) until the queue is empty
//     and prints how long that took, so runs do not disturb each other.
//
// Every failure is counted per phase and the first of each is printed
// with the count.
//
// With -async-profile DIR the server also serves pprof on loopback and
// the bench saves a CPU profile of the accept run at concurrency 32
// (DIR/accept-c32.pprof), one of the first two seconds of the drain
// after it, the engine alone (DIR/drain-c32.pprof, with the number of
// events it ran), and a one-second execution trace of the latency phase
// (DIR/latency.trace).
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// phases are the parts of the bench -only can select, in running order.
var phases = []string{"latency", "c8", "c64", "auth", "dynamodb", "cold", "async"}

// options are the flags.
type options struct {
	rounds, samples, cold int
	duration              time.Duration
	only                  map[string]bool
	async                 asyncConfig
}

func main() {
	var (
		rounds    = flag.Int("rounds", 5, "interleaved rounds of each measure")
		samples   = flag.Int("samples", 1000, "sequential requests per round and side for the latency percentiles")
		duration  = flag.Duration("duration", 2*time.Second, "length of each throughput run (one per round and side)")
		coldCount = flag.Int("cold", 6, "fresh functions per runtime and round for the cold-start figures")
		only      = flag.String("only", "", "comma-separated phases to run, of "+strings.Join(phases, ", ")+" (default all)")
		floorOnly = flag.Bool("serve-floor", false, "internal: serve the floor handler and print its address")

		asyncSamples = flag.Int("async-samples", 300, "sequential Event invokes for the accept→start percentiles")
		asyncDrain   = flag.Duration("async-drain", time.Minute, "longest wait for the async queue to empty after an accept run")
		asyncProfile = flag.String("async-profile", "", "directory for server CPU profiles of the c32 accept run and the drain after it, and a trace of the latency phase")
	)
	flag.Parse()
	if *floorOnly {
		serveFloor()
		return
	}
	opts := options{
		rounds: *rounds, samples: *samples, cold: *coldCount, duration: *duration,
		async: asyncConfig{
			samples:       *asyncSamples,
			concurrencies: []int{1, 32},
			duration:      *duration,
			drainLimit:    *asyncDrain,
			profileDir:    *asyncProfile,
		},
	}
	if *rounds < 1 || *samples < 1 || *coldCount < 1 || opts.async.samples < 1 || *duration <= 0 || opts.async.drainLimit <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -rounds, -samples, -cold, -async-samples, -duration and -async-drain must be positive")
		os.Exit(2)
	}
	var err error
	if opts.only, err = parseOnly(*only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseOnly reads -only: every phase when empty.
func parseOnly(s string) (map[string]bool, error) {
	sel := map[string]bool{}
	if strings.TrimSpace(s) == "" {
		for _, p := range phases {
			sel[p] = true
		}
		return sel, nil
	}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(phases, p) {
			return nil, fmt.Errorf("-only: unknown phase %q (have %s)", p, strings.Join(phases, ", "))
		}
		sel[p] = true
	}
	return sel, nil
}

// bench is one run: what it started and what it measured.
type bench struct {
	opts      options
	work      string
	bin       string
	fnBin     string
	echo      fnSpec
	client    *http.Client
	floor     *proc
	server    *proc
	invokeURL string
	payload   []byte

	warmupErrs errCount

	latP50, latP99         series
	latFloorErrs, latErrs  errCount
	tput                   map[int]*tputPhase
	noneVsSigned           series
	authNoneErrs, authErrs errCount
	cold                   []*coldKind
	async                  *asyncResults
	dynamo                 *dynamoResults
}

// tputPhase is the throughput measure at one concurrency.
type tputPhase struct {
	rate series
	// cpu is server CPU per request answered, in nanoseconds.
	cpu series
	// growErrs are failures while the pool grows before the rounds.
	floorErrs, errs, growErrs errCount
}

func run(opts options) error {
	// On disk where there is one: /tmp is often a tmpfs, where each
	// environment's reserved /tmp image would take memory.
	parent := ""
	if fi, err := os.Stat("/var/tmp"); err == nil && fi.IsDir() {
		parent = "/var/tmp"
	}
	work, err := os.MkdirTemp(parent, "updraft-bench-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	defer os.RemoveAll(work)
	_ = os.Chmod(work, 0o755)
	b := &bench{
		opts: opts, work: work,
		bin:     filepath.Join(work, "updraft"),
		fnBin:   filepath.Join(work, "bootstrap"),
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}},
		payload: []byte(`{"hello":"world"}`),
		tput:    map[int]*tputPhase{},
	}

	fmt.Println("building updraft and the echo function ...")
	if err := goBuild(b.bin, "./cmd/updraft"); err != nil {
		return err
	}
	if err := goBuild(b.fnBin, "./bench/echofn"); err != nil {
		return err
	}
	zipBytes, err := zipBootstrap(b.fnBin)
	if err != nil {
		return err
	}
	b.echo = fnSpec{runtime: "provided.al2023", handler: "bootstrap", zip: zipBytes}

	if b.floor, err = startFloor(); err != nil {
		return err
	}
	defer b.floor.stop()

	var serverArgs []string
	if opts.async.profileDir != "" && opts.only["async"] {
		if err := os.MkdirAll(opts.async.profileDir, 0o755); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
		addr, err := freeLoopbackAddr()
		if err != nil {
			return err
		}
		serverArgs = append(serverArgs, "--debug-listen", addr)
		opts.async.debugURL = "http://" + addr
		b.opts.async.debugURL = opts.async.debugURL
	}
	if b.server, err = startServer(b.bin, filepath.Join(work, "data"), serverArgs...); err != nil {
		return err
	}
	defer b.server.stop()

	if err := createFunction(b.client, b.server.url, "echo", b.echo); err != nil {
		return err
	}
	b.invokeURL = b.server.url + "/2015-03-31/functions/echo/invocations"
	// Warm up: one cold start, then enough calls to settle.
	for range 200 {
		if err := post(b.client, b.invokeURL, b.payload); err != nil {
			b.warmupErrs.add(err)
		}
	}

	steps := []struct {
		phase string
		run   func() error
	}{
		{"latency", b.latencyPhase},
		{"c8", func() error { return b.throughputPhase(8) }},
		{"c64", func() error { return b.throughputPhase(64) }},
		{"auth", b.authPhase},
		{"dynamodb", b.dynamoPhase},
		{"cold", b.coldPhase},
		// Asynchronous invocation last, so its queue and records cannot
		// disturb the figures above.
		{"async", b.asyncPhase},
	}
	for _, s := range steps {
		if !opts.only[s.phase] {
			continue
		}
		fmt.Printf("%s ...\n", s.phase)
		if err := s.run(); err != nil {
			return fmt.Errorf("%s: %w", s.phase, err)
		}
	}
	b.print()
	return nil
}

// floorFirst says whether the floor goes first in round r: the order
// alternates, so a load that rises or falls through a round favours
// neither side.
func floorFirst(r int) bool { return r%2 == 0 }

// latencyPhase measures sequential requests, p50 and p99.
func (b *bench) latencyPhase() error {
	for r := range b.opts.rounds {
		var fp50, fp99, up50, up99 time.Duration
		var fok, uok bool
		floor := func() { fp50, fp99, fok = latency(b.client, b.floor.url, b.payload, b.opts.samples, &b.latFloorErrs) }
		upd := func() { up50, up99, uok = latency(b.client, b.invokeURL, b.payload, b.opts.samples, &b.latErrs) }
		if floorFirst(r) {
			floor()
			upd()
		} else {
			upd()
			floor()
		}
		if fok && uok {
			b.latP50.add(float64(fp50), float64(up50))
			b.latP99.add(float64(fp99), float64(up99))
		}
	}
	return nil
}

// throughputPhase measures requests per second at concurrency conc and,
// at 8, the server CPU per request.
func (b *bench) throughputPhase(conc int) error {
	t := &tputPhase{}
	b.tput[conc] = t
	if conc == 64 {
		// Let the pool grow to 64 environments before measuring.
		if _, err := throughput(b.client, b.invokeURL, b.payload, conc, time.Second, 0, &t.growErrs); err != nil {
			return err
		}
	}
	for r := range b.opts.rounds {
		var f, u tputRun
		var err error
		floor := func() error {
			f, err = throughput(b.client, b.floor.url, b.payload, conc, b.opts.duration, b.floor.pid, &t.floorErrs)
			return err
		}
		upd := func() error {
			u, err = throughput(b.client, b.invokeURL, b.payload, conc, b.opts.duration, b.server.pid, &t.errs)
			return err
		}
		first, second := floor, upd
		if !floorFirst(r) {
			first, second = upd, floor
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		if f.ok > 0 && u.ok > 0 {
			t.rate.add(f.rate, u.rate)
			t.cpu.add(float64(f.cpu)/float64(f.ok), float64(u.cpu)/float64(u.ok))
		}
	}
	return nil
}

// authPhase compares a warm invoke signed by an IAM user with one under
// --auth none, on a second server.
func (b *bench) authPhase() error {
	signedBase, user, stopSigned, err := signedSetup(b.client, b.bin, filepath.Join(b.work, "data-signed"), b.echo)
	if err != nil {
		return err
	}
	defer stopSigned()
	signedURL := signedBase + "/2015-03-31/functions/echo/invocations"
	var warm errCount
	signedLatency(b.client, user, signedURL, b.payload, 200, &warm)
	if warm.count() > 0 {
		return fmt.Errorf("signed warm-up: %s", warm.String())
	}
	authRounds(b.client, b.invokeURL, user, signedURL, b.payload, b.opts.rounds, max(b.opts.samples/2, 50), &b.noneVsSigned, &b.authNoneErrs, &b.authErrs)
	return nil
}

// coldPhase measures cold starts of each runtime against its floor.
func (b *bench) coldPhase() error {
	bare, err := newBareBootstrap(b.fnBin)
	if err != nil {
		return err
	}
	defer bare.Close()
	if b.cold, err = coldKinds(b.work, b.echo, bare); err != nil {
		return err
	}
	for r := range b.opts.rounds {
		for _, k := range b.cold {
			if k.skip == "" {
				coldRound(b.client, b.server.url, k, r, b.opts.cold)
			}
		}
	}
	return nil
}

// asyncPhase measures Event invokes; its rows compare with the floor's
// latency, measured here when the latency phase did not run.
func (b *bench) asyncPhase() error {
	if b.latP50.rounds() == 0 {
		var errs errCount
		p50, p99, ok := latency(b.client, b.floor.url, b.payload, b.opts.samples, &errs)
		if !ok {
			return fmt.Errorf("floor latency: %s", errs.String())
		}
		b.latP50.add(float64(p50), float64(p50))
		b.latP99.add(float64(p99), float64(p99))
	}
	res, err := runAsync(b.client, b.server.url, b.floor.url, "echo", b.opts.async)
	if err != nil {
		return err
	}
	b.async = res
	return nil
}

// print prints the table and the bars.
func (b *bench) print() {
	fmt.Println()
	printHeader(b.opts.rounds)
	errRow("warm-up invokes", &b.warmupErrs)
	var bars []string
	if b.opts.only["latency"] {
		durRow("sync latency p50, concurrency 1", &b.latP50)
		durRow("sync latency p99, concurrency 1", &b.latP99)
		errRow("floor", &b.latFloorErrs)
		errRow("updraft", &b.latErrs)
		med, _, _ := b.latP50.ratios()
		bars = append(bars, fmt.Sprintf("warm p50 <= 2.5x floor: %v", b.latP50.rounds() > 0 && med <= 2.5))
	}
	for _, conc := range []int{8, 64} {
		t := b.tput[conc]
		if t == nil {
			continue
		}
		rateRow(fmt.Sprintf("throughput, concurrency %d", conc), &t.rate)
		errRow("floor", &t.floorErrs)
		errRow("updraft", &t.errs)
		if conc == 64 {
			errRow("updraft, growing the pool to 64 (1 s before the rounds)", &t.growErrs)
			bars = append(bars, fmt.Sprintf("no errors at c64: %v", t.errs.count()+t.growErrs.count() == 0))
			continue
		}
		cpuRow("server CPU per request, concurrency 8", &t.cpu)
		fmt.Printf("    user+system time of each server process over its runs (/proc/PID/stat) ÷ requests answered; updraft's excludes the functions' processes\n")
		med, _, _ := t.rate.ratios()
		_, u := t.cpu.medians()
		bars = append(bars, fmt.Sprintf("c8 throughput >= 30%% of floor: %v", t.rate.rounds() > 0 && med >= 0.3),
			fmt.Sprintf("server CPU per warm invoke at c8 <= 100µs: %v", t.cpu.rounds() > 0 && u <= 100e3))
	}
	if b.opts.only["auth"] {
		durRow("warm p50, SigV4 IAM user vs auth none", &b.noneVsSigned)
		fmt.Printf("    each round replays one signature, so the figure is the server's verification and authorisation\n")
		errRow("auth none", &b.authNoneErrs)
		errRow("SigV4", &b.authErrs)
	}
	if b.dynamo != nil {
		b.dynamo.print()
	}
	for _, k := range b.cold {
		if k.skip != "" {
			fmt.Printf(rowName+" not measured: %s\n", k.label, k.skip)
			continue
		}
		durRow(k.label, &k.s)
		fmt.Printf("    floor: %s; updraft: first invoke of a fresh function (%d per round), at the client\n", k.floorNote, b.opts.cold)
		errRow("errors", &k.errs)
	}
	if len(b.cold) == 3 {
		bar := func(k *coldKind, limit float64) bool {
			med, _, _ := k.s.ratios()
			return k.s.rounds() > 0 && med <= limit
		}
		bars = append(bars, fmt.Sprintf("Go cold <= 1.15x bare bootstrap: %v; Python cold <= 1.0x python3 -c pass: %v; Node cold <= 1.0x node -e 0: %v",
			bar(b.cold[0], 1.15), bar(b.cold[1], 1.0), bar(b.cold[2], 1.0)))
	}
	if b.async != nil {
		f50, _ := b.latP50.medians()
		f99, _ := b.latP99.medians()
		printAsync(b.async, b.opts.async.samples, time.Duration(f50), time.Duration(f99))
		bars = append(bars, asyncBars(b.async))
	}
	fmt.Println()
	fmt.Printf("bars: %s\n", strings.Join(bars, "; "))
}
