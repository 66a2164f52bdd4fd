// Command soak keeps one updraft server under mixed load while it injects
// the faults a server meets on its worst day, then checks that nothing
// accepted was lost and nothing leaked.
//
//	go run ./bench/soak                   # 2 minutes, as CI runs it (root)
//	go run ./bench/soak -duration 10m     # a longer run
//
// It needs root (it mounts a tmpfs and makes a network namespace), the ip
// command and slirp4netns. It builds the server and the soak function
// (bench/soak/soakfn), mounts a small tmpfs (-disk) for the data dir,
// starts `updraft server` as a child process with SigV4 auth and full
// isolation, deploys five functions, a queue mapping and a stream mapping,
// and for -duration sends, each at -rate per second: sync invokes, Event
// invokes, queue messages, stream records, and every few seconds a code
// upload large enough to be spooled. Meanwhile it cycles through three
// faults:
//
//   - kill: SIGKILL the server (the process alone, as a crash would)
//     while an upload is being spooled, and start it again on the same
//     data dir;
//   - full disk: write a file into the tmpfs until ENOSPC, hold it
//     (-fill-hold) while the load runs, free it, and require the server to
//     recover without a restart (-recover-within): a sync invoke, an Event
//     invoke run to a final record, a queue message, a stream record and
//     /healthz ok. Requests may fail while the disk is full; they were not
//     accepted;
//   - connections: open -max-connections connections (the server's cap)
//     that sit idle, send a header slowly or a body slowly, hold them
//     (-conn-hold), and require a new client's signed invoke to be
//     answered meanwhile.
//
// At the end it waits (-drain) until every accepted Event invoke (202) has
// a final record (GET /updraft/v1/invocations/{id}) that SUCCEEDED with
// its own payload echoed, and every accepted queue message and stream
// record reached the function, which reports each batch to a sink the
// soak serves in a network namespace of its own (allowed to functions
// with --function-egress-allow). Then, once the idle environments were
// evicted, it compares what the server holds with the baseline taken
// after the warm-up: its child processes, processes orphaned by killed
// servers (the soak is their child subreaper), cgroup directories of
// every server's sandbox tree, the server's open file descriptors, and
// files in <data-dir>/spool; it stops the server with SIGTERM and
// requires that no process and no cgroup remain. The server's RSS is
// sampled every half second and must stay under -rss-limit.
//
// It prints every figure and every error class it saw, and exits 1 with
// the list of violations if any guarantee was broken.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// config is the soak's flags.
type config struct {
	duration       time.Duration
	rate           float64
	maxConnections int
	diskBytes      int64
	rssLimit       int64
	fillHold       time.Duration
	connHold       time.Duration
	recoverWithin  time.Duration
	drain          time.Duration
	idleTTL        time.Duration
	fdSlack        int
	keep           bool
}

// defaultConfig is the 2-minute run CI makes.
func defaultConfig() config {
	return config{
		duration:       2 * time.Minute,
		rate:           10,
		maxConnections: 128,
		diskBytes:      2 << 30,
		rssLimit:       512 << 20,
		fillHold:       10 * time.Second,
		connHold:       15 * time.Second,
		recoverWithin:  30 * time.Second,
		drain:          3 * time.Minute,
		idleTTL:        10 * time.Second,
		fdSlack:        8,
	}
}

func main() {
	cfg := defaultConfig()
	flag.DurationVar(&cfg.duration, "duration", cfg.duration, "how long the load runs (faults stop 30 s or a quarter of it before the end)")
	flag.Float64Var(&cfg.rate, "rate", cfg.rate, "requests per second of each kind of load (sync, Event, queue, stream)")
	flag.IntVar(&cfg.maxConnections, "max-connections", cfg.maxConnections, "the server's --max-connections, and the connections each flood opens")
	disk := flag.Int("disk-mib", int(cfg.diskBytes>>20), "size of the data dir's tmpfs in MiB (JetStream must fit a 1 GiB queue in 75% of it)")
	rss := flag.Int("rss-limit-mib", int(cfg.rssLimit>>20), "the server's RSS must stay under this, in MiB")
	flag.DurationVar(&cfg.fillHold, "fill-hold", cfg.fillHold, "how long the file system stays full")
	flag.DurationVar(&cfg.connHold, "conn-hold", cfg.connHold, "how long the connection flood is held")
	flag.DurationVar(&cfg.recoverWithin, "recover-within", cfg.recoverWithin, "the server must work again this soon after space is freed")
	flag.DurationVar(&cfg.drain, "drain", cfg.drain, "longest wait after the load for accepted work to be processed")
	flag.DurationVar(&cfg.idleTTL, "idle-ttl", cfg.idleTTL, "the server's --idle-ttl; the leak checks wait for idle environments to be evicted")
	flag.IntVar(&cfg.fdSlack, "fd-slack", cfg.fdSlack, "open files the server may hold above the baseline at the end (the store's files)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the work dir (server log, binaries) even when the soak passes")
	flag.Parse()
	cfg.diskBytes, cfg.rssLimit = int64(*disk)<<20, int64(*rss)<<20

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	violations, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if len(violations) > 0 {
		os.Exit(1)
	}
}

// preflight says what this machine lacks to run the soak, or "".
func preflight() string {
	if os.Geteuid() != 0 {
		return "the soak needs root: it mounts a tmpfs, makes a network namespace and runs the server with full isolation"
	}
	for _, tool := range []string{"ip", "slirp4netns"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("the soak needs %s (functions report to a sink through egress)", tool)
		}
	}
	return ""
}

// run is the whole soak. It returns the violations (also printed to w),
// or an error when the soak itself could not run.
func run(ctx context.Context, cfg config, w io.Writer) (violations []string, err error) {
	if why := preflight(); why != "" {
		return nil, errors.New(why)
	}
	if cfg.duration < time.Minute {
		return nil, errors.New("-duration must be at least 1m: every fault runs once, then 30 s of steady load")
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	parent := ""
	if fi, err := os.Stat("/var/tmp"); err == nil && fi.IsDir() {
		parent = "/var/tmp"
	}
	work, err := os.MkdirTemp(parent, "updraft-soak-")
	if err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	defer func() {
		if cfg.keep || err != nil || len(violations) > 0 {
			fmt.Fprintf(w, "soak: work dir kept: %s (server log: %s)\n", work, filepath.Join(work, "server.log"))
			return
		}
		if rerr := os.RemoveAll(work); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove work dir: %w", rerr))
		}
	}()
	_ = os.Chmod(work, 0o755)

	fmt.Fprintf(w, "soak: building the server and the soak function in %s ...\n", work)
	bin, fnBin := filepath.Join(work, "updraft"), filepath.Join(work, "soakfn")
	if err := goBuild(root, bin, "./cmd/updraft"); err != nil {
		return nil, err
	}
	if err := goBuild(root, fnBin, "./bench/soak/soakfn"); err != nil {
		return nil, err
	}
	z, err := newZipper(fnBin)
	if err != nil {
		return nil, err
	}

	mount := filepath.Join(work, "disk")
	if err := os.Mkdir(mount, 0o755); err != nil {
		return nil, err
	}
	if err := unix.Mount("tmpfs", mount, "tmpfs", 0, "size="+strconv.FormatInt(cfg.diskBytes, 10)+",mode=0755"); err != nil {
		return nil, fmt.Errorf("mount a tmpfs at %s: %w", mount, err)
	}
	defer func() {
		if uerr := unix.Unmount(mount, 0); uerr != nil {
			_ = unix.Unmount(mount, unix.MNT_DETACH)
			err = errors.Join(err, fmt.Errorf("unmount the tmpfs (detached instead): %w", uerr))
		}
	}()
	dataDir := filepath.Join(mount, "data")

	sk, err := startSink()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, sk.Close()) }()
	if err := raiseFileLimit(); err != nil {
		return nil, fmt.Errorf("raise the open-file limit: %w", err)
	}
	reap, err := newReaper()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, reap.Close()) }()

	srv, err := newServer(serverConfig{bin: bin, dataDir: dataDir, logPath: filepath.Join(work, "server.log"),
		sinkCIDR: sk.peerCIDR(), maxConnections: cfg.maxConnections, idleTTL: cfg.idleTTL})
	if err != nil {
		return nil, err
	}
	// Whatever happens, the last incarnation does not outlive the soak.
	defer func() {
		if inc := srv.current(); inc != nil {
			_ = syscall.Kill(-inc.pid, syscall.SIGKILL)
			<-inc.done
		}
	}()
	fmt.Fprintf(w, "soak: starting the server on %s, data dir %s (tmpfs of %d MiB)\n", srv.url(), dataDir, cfg.diskBytes>>20)
	if _, err := srv.start(ctx, reap); err != nil {
		return nil, err
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go srv.sampleRSS(sampleCtx, 500*time.Millisecond)

	a := newAPI(srv.url(), 15*time.Second)
	ph := &phase{}
	ph.set("warm-up")
	ledgers := map[string]*ledger{}
	for _, k := range kinds {
		ledgers[k] = newLedger(k)
	}
	ld := &loader{api: a, phase: ph, ledgers: ledgers, runID: strconv.FormatInt(time.Now().UnixNano()%1e9, 36), zip: z.zip,
		cfg: loadConfig{rate: cfg.rate, maxInflight: 16, uploadEvery: 5 * time.Second, uploadBytes: 9 << 20}}
	if err := deploy(ctx, a, z, sk.url); err != nil {
		return nil, err
	}
	if err := warmUp(ctx, ld, sk, 90*time.Second); err != nil {
		return nil, err
	}
	rep := &report{rssBound: cfg.rssLimit}
	if rep.baseline, err = quiet(ctx, srv, a, cfg.idleTTL); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(w, "soak: baseline: %d server processes (%s), %d cgroup dirs, %d fds, %d spool files; load for %s\n",
		len(rep.baseline.children), procNames(rep.baseline.children), sum(rep.baseline.cgroups), rep.baseline.fds, len(rep.baseline.spool), cfg.duration)

	// The load, and the faults beside it.
	ph.set("steady")
	loadCtx, stopLoad := context.WithTimeout(ctx, cfg.duration)
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() {
		ld.run(loadCtx)
		close(loadDone)
	}()
	f := &faulter{srv: srv, reap: reap, api: a, loader: ld, phase: ph, mount: mount, rep: rep, maxConn: cfg.maxConnections,
		fillHold: cfg.fillHold, connHold: cfg.connHold, recoverWithin: cfg.recoverWithin}
	faultErr := schedule(loadCtx, w, f, cfg.duration)
	<-loadDone
	ph.set("drain")
	if faultErr != nil {
		return nil, faultErr
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if srv.current() == nil {
		return nil, errors.New("the server is not running after the load")
	}

	fmt.Fprintln(w, "soak: load done; waiting for accepted work to be processed ...")
	verifyDelivery(ctx, rep, ld, sk, cfg.drain)
	if rep.end, err = quiet(ctx, srv, a, cfg.idleTTL); err != nil {
		rep.violate("the server did not become idle after the load: %v", err)
	}
	stopSampling()
	rep.rssMax, rep.rssIncarnation = srv.maxRSS()
	pids := incarnationPIDs(srv)
	if err := srv.stop(60 * time.Second); err != nil {
		rep.violate("graceful stop: %v", err)
	}
	rep.afterStop, err = settled(ctx, srv, pids, dataDir)
	if err != nil {
		return nil, err
	}
	checkResources(rep, cfg, srv, ledgers["sync"])
	rep.print(w, cfg, ledgers, srv)
	return rep.violations, nil
}

// schedule cycles through the faults until 30 s (or a quarter of the
// duration, whichever is longer) before the load ends, so that work the
// last fault delayed is redelivered while load still runs.
func schedule(ctx context.Context, w io.Writer, f *faulter, duration time.Duration) error {
	end := time.Now().Add(duration - max(30*time.Second, duration/4))
	gap := 10 * time.Second
	faults := []struct {
		name string
		run  func(context.Context) error
	}{
		// The full disk comes last in a cycle: a server that does not
		// recover from it is still counted against, and the next
		// cycle's kill does not hide it.
		{"connections up to the cap", f.floodConnections}, {"kill -9 and restart", f.killRestart}, {"full disk", f.fillDisk},
	}
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	if !sleep(gap) {
		return nil
	}
	for i := 0; time.Now().Before(end); i++ {
		ft := faults[i%len(faults)]
		fmt.Fprintf(w, "soak: %s: %s\n", time.Now().Format("15:04:05"), ft.name)
		if err := ft.run(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("fault %q: %w", ft.name, err)
		}
		if !sleep(gap) {
			return nil
		}
	}
	return nil
}

// quiet waits until the server has no execution environment left (idle
// ones are evicted after idleTTL) and its process tree is down to the
// pre-started sandboxes, then measures what it holds.
//
// The soak's own idle keep-alive connections are closed first and at
// every reading, so that the server's descriptor count is its own.
func quiet(ctx context.Context, srv *server, a *api, idleTTL time.Duration) (resources, error) {
	deadline := time.Now().Add(2*idleTTL + 30*time.Second)
	pids := incarnationPIDs(srv)
	var res resources
	var err error
	var stable int
	prev := -1
	for time.Now().Before(deadline) {
		inc := srv.current()
		if inc == nil {
			return res, errors.New("no server is running")
		}
		a.http.CloseIdleConnections()
		res, err = measure(ctx, srv.url(), inc.pid, pids, srv.dataDir)
		if err == nil && res.envs == 0 && len(res.orphans) == 0 {
			// Three equal readings in a row: pre-started sandboxes
			// being replaced do not count as the quiet state.
			if len(res.children) == prev {
				stable++
			} else {
				stable = 0
			}
			prev = len(res.children)
			if stable >= 2 {
				return res, nil
			}
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return res, err
	}
	return res, fmt.Errorf("still %d environments, %d processes (%s), %d orphans (%s) after %s",
		res.envs, len(res.children), procNames(res.children), len(res.orphans), procNames(res.orphans), 2*idleTTL+30*time.Second)
}

// settled measures after the server stopped, giving orphans a few
// seconds to exit.
func settled(ctx context.Context, srv *server, pids []int, dataDir string) (resources, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := measure(ctx, srv.url(), 0, pids, dataDir)
		if err != nil {
			return res, err
		}
		if (len(res.orphans) == 0 && sum(res.cgroups) == 0) || time.Now().After(deadline) {
			return res, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// incarnationPIDs lists the pids of every server started so far.
func incarnationPIDs(srv *server) []int {
	var pids []int
	for _, inc := range srv.incarnations() {
		pids = append(pids, inc.pid)
	}
	return pids
}
