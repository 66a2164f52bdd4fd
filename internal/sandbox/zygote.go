//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// initCloneFlags are the namespaces of a full-mode sandbox. In its network
// namespace the server serves the Runtime API and the platform API on
// sockets it creates there (setupNetwork).
const initCloneFlags = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNET

// initStartTimeout bounds a start-up handshake when the caller's context
// has no deadline.
const initStartTimeout = 30 * time.Second

// zygoteOptions are what a zygote is prepared with besides its cgroup.
type zygoteOptions struct {
	net        *netPolicy // its network namespace; nil leaves it unconfigured (a probe)
	scratchDir string     // where its /tmp image goes; "" for a tmpfs /tmp
	// scratchSparse leaves that image's space unreserved.
	scratchSparse bool
	tmpSizeMB     int // the size of that image
	// launches bounds how many zygotes start at once; nil: no bound.
	launches *launchGate
	// template is the runtime the zygote starts inside its sandbox and
	// keeps waiting for its assignment (template.go); nil for a blank
	// zygote.
	template *Template
}

// zygote is a sandbox init that was started before it was needed: it was
// re-executed in its new namespaces, has mounted /proc, usually entered a
// cgroup of its own, and waits on its control socket for the spec that
// makes it one particular sandbox. Once the spec is sent it is the init of
// that sandbox.
type zygote struct {
	cmd  *exec.Cmd
	conn *net.UnixConn      // the server's end of the control socket
	msgs <-chan initMessage // after "ready"; closed at EOF of the socket
	diag *logWriter         // the init's own stdout and stderr
	// readerDone is closed when the reader goroutine has finished.
	readerDone chan struct{}
	// pool is told when the init exits, so a pre-started zygote that died
	// is dropped; nil for a zygote spawned on demand.
	pool *zygotePool
	// cg is the cgroup the init runs in, or will enter with its spec
	// (entered false); destroy removes it. nil until one is assigned.
	cg      envCgroup
	entered bool
	// net is the server's side of the init's network namespace; nil
	// for a probe.
	net *envNetwork
	// tmpSizeMB is the size of the scratch file system the init mounted
	// at /tmp; 0 when it mounts one (or a tmpfs) with its spec instead.
	tmpSizeMB int
	// tmpImage and tmpLoop are that file system's image and loop device;
	// the image is removed with the zygote unless a sandbox took it over
	// (tmpImage "" then).
	tmpImage, tmpLoop string
	// idle is set when the init was started under SCHED_IDLE (see
	// sched.go), until the pool gave it normal scheduling back.
	idle bool
	// template is the runtime template whose stem waits in the zygote;
	// nil for a blank zygote.
	template *Template
	// output is the read end of the stem's own output pipe
	// (Template.OwnOutput), nil once a sandbox took it; closed with the
	// zygote.
	output *os.File

	dead bool // the init has exited; guarded by pool.mu
}

// spawnZygote re-executes the server binary as an init in new namespaces
// and returns once it reported "ready". A non-nil cg is entered by the init
// before that (and removed by destroy). On failure the init is killed and
// reaped, and cg removed.
func spawnZygote(ctx context.Context, logger *slog.Logger, pool *zygotePool, cg envCgroup, opts zygoteOptions) (*zygote, error) {
	// From the clone until the init is ready: the clone is what the gate
	// bounds, and the rest of the start (the init's re-execution, its /tmp
	// and network) is CPU that a burst shares anyway.
	if err := opts.launches.enter(ctx); err != nil {
		dropCgroup(cg, logger)
		return nil, err
	}
	left := false
	leave := func() {
		if !left {
			left = true
			opts.launches.leave()
		}
	}
	defer leave()
	// The /tmp image is made while the init re-executes itself: the init
	// waits for it on its setup line.
	if pool != nil && pool.idleStart {
		ctx = withIdleHelpers(ctx, pool.normal)
	}
	var tmp *scratch
	makeTmp := func() (*scratch, error) { return nil, nil }
	if opts.scratchDir != "" {
		makeTmp = func() (*scratch, error) {
			create := func() error {
				var err error
				tmp, err = createScratch(ctx, opts.scratchDir, opts.tmpSizeMB, opts.scratchSparse)
				return err
			}
			var err error
			if pool != nil && pool.idleStart {
				// Reserving the space and formatting it (mkfs inherits
				// the thread's policy) are background work.
				err = withIdleSched(pool.normal, create)
			} else {
				err = create()
			}
			return tmp, err
		}
	}
	z, err := startZygote(logger, pool, cg, opts.net, opts.template, makeTmp)
	if opts.template != nil {
		// A runtime template's zygote is ready only once its runtime has
		// started, tens of milliseconds of CPU (far more under
		// SCHED_IDLE on a busy host) that hold no P of the server:
		// holding the gate that long would make cold starts wait for
		// it.
		leave()
	}
	if tmp != nil {
		// Mounted by the init before it is ready; the mount keeps the
		// device, and z the image.
		defer tmp.closeDevice()
	}
	if err != nil {
		dropCgroup(cg, logger)
		if tmp != nil {
			_ = tmp.Close()
		}
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, initStartTimeout)
		defer cancel()
	}
	// The network namespace exists from the clone on: prepare it while
	// the init sets up its root.
	type netResult struct {
		n   *envNetwork
		err error
	}
	netDone := make(chan netResult, 1)
	if opts.net != nil {
		go func() {
			n, err := setupNetwork(ctx, z.cmd.Process.Pid, opts.net, logger)
			netDone <- netResult{n, err}
		}()
	} else {
		netDone <- netResult{}
	}
	readyErr := z.await(ctx, eventReady)
	nr := <-netDone
	z.net = nr.n
	if err := errors.Join(readyErr, nr.err); err != nil {
		z.destroy(logger)
		return nil, err
	}
	return z, nil
}

// startZygote starts the init process and its reader goroutine.
func startZygote(logger *slog.Logger, pool *zygotePool, cg envCgroup, np *netPolicy, tmpl *Template, makeTmp func() (*scratch, error)) (*zygote, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: control socket: %w", err)
	}
	local := os.NewFile(uintptr(pair[0]), "init-control")
	remote := os.NewFile(uintptr(pair[1]), "init-control")
	fc, err := net.FileConn(local)
	local.Close()
	if err != nil {
		remote.Close()
		return nil, fmt.Errorf("sandbox: control socket: %w", err)
	}
	conn := fc.(*net.UnixConn)
	diag := &logWriter{}
	diag.logger.Store(logger)
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{initArg0},
		// One P keeps the init's thread count (and the pids and wake-ups it
		// costs on every thaw) low; it only waits.
		Env:        []string{"GOMAXPROCS=1"},
		ExtraFiles: []*os.File{remote},
		Stdout:     diag,
		Stderr:     diag,
		WaitDelay:  outputWaitDelay,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: initCloneFlags,
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	idle := pool != nil && pool.idleStart
	if idle {
		err = withIdleSched(pool.normal, cmd.Start)
	} else {
		err = cmd.Start()
	}
	// Only the init may hold its end, or we never see EOF when it exits.
	remote.Close()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sandbox: start init: %w", err)
	}
	tmp, err := makeTmp()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		conn.Close()
		return nil, err
	}
	setup := initSetup{ResolvConf: np.resolvConf()}
	if cg != nil {
		setup.CgroupProcs = cg.procsFiles()
	}
	var attached []int
	if tmp != nil {
		setup.TmpDevice = true
		attached = append(attached, int(tmp.Device().Fd()))
	}
	var outR, outW *os.File
	if tmpl != nil {
		setup.RuntimeDir = tmpl.RuntimeDir
		setup.Template = &initCommand{Path: tmpl.Main.Path, Args: tmpl.Main.Args, Env: tmpl.stemEnv(), Stdout: -1, Stderr: -1}
		if tmpl.OwnOutput {
			if outR, outW, err = os.Pipe(); err != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				conn.Close()
				return nil, fmt.Errorf("sandbox: runtime template output: %w", err)
			}
			setup.TemplateOutput = true
			attached = append(attached, int(outW.Fd()))
		}
	}
	var oob []byte
	if len(attached) > 0 {
		oob = unix.UnixRights(attached...)
	}
	b, _ := json.Marshal(setup)
	_, _, err = conn.WriteMsgUnix(append(b, '\n'), oob, nil)
	if tmp != nil {
		runtime.KeepAlive(tmp.Device())
	}
	if outW != nil {
		outW.Close() // the init has its copy
	}
	if err != nil {
		if outR != nil {
			outR.Close()
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		conn.Close()
		return nil, fmt.Errorf("sandbox: send init setup: %w", err)
	}
	msgs := make(chan initMessage, 4)
	z := &zygote{
		cmd: cmd, conn: conn, msgs: msgs, diag: diag, readerDone: make(chan struct{}),
		pool: pool, cg: cg, entered: cg != nil, idle: idle, template: tmpl, output: outR,
	}
	if tmp != nil {
		z.tmpSizeMB, z.tmpImage, z.tmpLoop = tmp.SizeMB(), tmp.ImagePath(), tmp.DevicePath()
	}
	go z.read(msgs, logger)
	if idle {
		pool.startedIdle(z)
	}
	return z, nil
}

// read decodes status lines until EOF, then closes msgs and the socket and
// tells the pool.
func (z *zygote) read(msgs chan<- initMessage, logger *slog.Logger) {
	defer close(z.readerDone)
	dec := json.NewDecoder(z.conn)
	for {
		var m initMessage
		if err := dec.Decode(&m); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, unix.ECONNRESET) {
				logger.Warn("sandbox: read init status", "err", err)
			}
			break
		}
		msgs <- m
	}
	close(msgs)
	_ = z.conn.Close()
	if z.pool != nil {
		z.pool.exited(z)
	}
}

// errInitGone means an init exited without saying why: it was killed, or
// crashed.
var errInitGone = errors.New("sandbox: init exited during setup")

// await waits for the event want; an "error" message, EOF (errInitGone)
// or the end of ctx fail it.
func (z *zygote) await(ctx context.Context, want string) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("sandbox: wait for init: %w", context.Cause(ctx))
	case msg, ok := <-z.msgs:
		switch {
		case !ok:
			return errInitGone
		case msg.Event == eventError:
			return fmt.Errorf("sandbox: init: %s", msg.Error)
		case msg.Event != want:
			return fmt.Errorf("sandbox: init: unexpected %q", msg.Event)
		}
	}
	return nil
}

// send hands the init its spec and the output descriptors files (which
// must stay open until it returns).
func (z *zygote) send(spec *initSpec, files []*os.File) error {
	if len(files) > maxInitFDs {
		return fmt.Errorf("sandbox: %d output descriptors, at most %d", len(files), maxInitFDs)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("sandbox: encode spec: %w", err)
	}
	b = append(b, '\n')
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			// Fd puts the descriptor in blocking mode, as os/exec does for
			// a child's stdout: the commands expect blocking writes.
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	n, _, err := z.conn.WriteMsgUnix(b, oob, nil)
	runtime.KeepAlive(files)
	if err == nil && n < len(b) {
		_, err = z.conn.Write(b[n:])
	}
	if err != nil {
		return fmt.Errorf("sandbox: send spec: %w", err)
	}
	return nil
}

// destroy kills and reaps an init that never became, or will no longer
// become, a sandbox, and removes its cgroup.
func (z *zygote) destroy(logger *slog.Logger) {
	_ = z.cmd.Process.Kill()
	for range z.msgs {
	}
	<-z.readerDone
	z.release(logger)
}

// release reaps the exited init, removes its cgroup and its /tmp image
// and closes its network.
func (z *zygote) release(logger *slog.Logger) {
	_ = z.cmd.Wait()
	if z.output != nil {
		_ = z.output.Close()
		z.output = nil
	}
	z.net.close()
	dropCgroup(z.cg, logger)
	z.cg = nil
	z.dropTmpImage(logger)
}

// dropTmpImage removes the image of the zygote's own /tmp, which no
// sandbox uses: the zygote is gone, or its sandbox mounted another.
func (z *zygote) dropTmpImage(logger *slog.Logger) {
	if z.tmpImage == "" {
		return
	}
	if err := os.Remove(z.tmpImage); err != nil && !errors.Is(err, os.ErrNotExist) {
		logger.Warn("sandbox: remove ephemeral storage image", "err", err)
	}
	z.tmpImage = ""
}

// dropCgroup kills what is left in cg (nil: nothing to do) and removes it.
func dropCgroup(cg envCgroup, logger *slog.Logger) {
	if cg == nil {
		return
	}
	_ = cg.kill()
	_ = cg.thaw()
	if err := cg.remove(); err != nil {
		logger.Warn("sandbox: remove cgroup of an unused init", "err", err)
	}
}

// logWriter turns an init's own (rare) diagnostics into log records; the
// logger changes when a zygote becomes a sandbox.
type logWriter struct{ logger atomic.Pointer[slog.Logger] }

func (w *logWriter) Write(b []byte) (int, error) {
	w.logger.Load().Warn("sandbox: init output", "output", strings.TrimSpace(string(b)))
	return len(b), nil
}

// zygotePool keeps up to size zygotes ready. A background goroutine tops
// it up, one zygote at a time, whenever one was taken or died;
// [zygotePool.close] stops it and kills what is left.
//
// Starting a zygote (the re-execution of a big binary) next to a runtime
// that is starting makes that runtime's cold start measurably slower on a
// small host, even at SCHED_IDLE, which also risks stalling other
// sandboxes behind kernel locks a preempted zygote holds. So while zygotes
// remain ready the pool waits until no Start has taken one for delay; an
// empty pool is topped up at once, since the next Start would otherwise
// start its own init on its critical path.
type zygotePool struct {
	size    int
	delay   time.Duration // quiet time after a take before topping up
	logger  *slog.Logger
	cgroups cgroupRoot    // a ready zygote waits in a cgroup of its own if it renames
	opts    zygoteOptions // what every zygote is prepared with
	// ctx is the pool's lifetime, cancelled by close; it bounds the
	// zygote being started by the goroutine.
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // signalled when a zygote was taken or died
	wg     sync.WaitGroup
	// spawnOne starts a zygote for the pool: spawn, or a test's wrapper.
	spawnOne func() (*zygote, error)
	// idleStart starts the pool's zygotes under SCHED_IDLE; normal is the
	// server's scheduling, restored once a zygote is needed.
	idleStart bool
	normal    schedParams

	mu       sync.Mutex
	ready    []*zygote // oldest first; guarded by mu
	lastTake time.Time // guarded by mu
	spawning bool      // the goroutine is starting a zygote; guarded by mu
	// claim is where the goroutine hands the zygote it is starting to the
	// one Start waiting for it (nil: none waits); guarded by mu.
	claim chan *zygote
	// starting is the zygote the goroutine started under SCHED_IDLE and
	// has not finished starting; guarded by mu.
	starting *zygote
	closed   bool // guarded by mu
}

// Timing of the refill goroutine.
const (
	// zygoteRefillDelay is the quiet time after a take before the pool is
	// topped up while zygotes remain; it covers the start of a Go or
	// provided runtime, which is what a concurrent refill slows down.
	zygoteRefillDelay = 50 * time.Millisecond
	// Backoff after a failed start.
	zygoteRetryMin = 100 * time.Millisecond
	zygoteRetryMax = 30 * time.Second
)

// newZygotePool starts the pool's goroutine; size must be positive.
func newZygotePool(size int, cgroups cgroupRoot, opts zygoteOptions, logger *slog.Logger) *zygotePool {
	zp := &zygotePool{size: size, delay: zygoteRefillDelay, cgroups: cgroups, opts: opts, logger: logger, wake: make(chan struct{}, 1)}
	zp.normal, zp.idleStart = ownSched()
	zp.spawnOne = zp.spawn
	zp.start()
	return zp
}

// start starts the goroutine.
func (zp *zygotePool) start() {
	zp.ctx, zp.cancel = context.WithCancel(context.Background())
	zp.wg.Add(1)
	go zp.run()
}

// run keeps the pool topped up until close.
func (zp *zygotePool) run() {
	defer zp.wg.Done()
	retry := zygoteRetryMin
	for {
		zp.mu.Lock()
		short := !zp.closed && len(zp.ready) < zp.size
		var wait time.Duration // until the pool has been quiet for delay
		if len(zp.ready) > 0 {
			wait = time.Until(zp.lastTake.Add(zp.delay))
		}
		zp.spawning = short && wait <= 0
		zp.mu.Unlock()
		if !short {
			select {
			case <-zp.ctx.Done():
				return
			case <-zp.wake:
				continue
			}
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-zp.ctx.Done():
				t.Stop()
				return
			case <-zp.wake:
				t.Stop()
				continue
			case <-t.C:
				continue
			}
		}
		z, err := zp.spawnOne()
		zp.mu.Lock()
		zp.spawning = false
		zp.starting = nil
		claim := zp.claim
		zp.claim = nil
		keep := err == nil && !zp.closed && !z.dead
		if keep && claim == nil {
			zp.ready = append(zp.ready, z)
		}
		zp.mu.Unlock()
		if claim != nil {
			if keep {
				claim <- z
			} else {
				claim <- nil
			}
		}
		if err == nil && !keep {
			z.destroy(zp.logger)
		}
		if err != nil {
			if zp.ctx.Err() != nil {
				return
			}
			zp.logger.Warn("sandbox: pre-start init", "err", err, "retry_in", retry)
			select {
			case <-zp.ctx.Done():
				return
			case <-time.After(retry):
			}
			retry = min(2*retry, zygoteRetryMax)
			continue
		}
		retry = zygoteRetryMin
	}
}

// spawn starts one zygote, in a cgroup of its own where cgroups can be
// renamed. Cgroup names starting with a dot cannot clash with sandbox IDs.
func (zp *zygotePool) spawn() (*zygote, error) {
	var cg envCgroup
	if zp.cgroups.renames() {
		name := fmt.Sprintf(".zygote-%d-%d", os.Getpid(), time.Now().UnixNano())
		var err error
		if cg, err = zp.cgroups.create(name, cgroupLimits{pids: DefaultPidsLimit}); err != nil {
			return nil, err
		}
	}
	z, err := spawnZygote(zp.ctx, zp.logger, zp, cg, zp.opts)
	if err == nil && z.idle {
		// Ready: it waits on its socket now, so normal scheduling costs
		// nothing until the spec arrives, and then nothing delays it.
		zp.boost(z)
	}
	return z, err
}

// take returns a ready zygote, or nil when the caller should start its
// own; either way the pool starts topping up. When none is ready but the
// goroutine is starting one that no other Start waits for, take waits for
// that one (bounded by ctx): it is further along than one the caller would
// start now, and two starting side by side only slow each other down.
func (zp *zygotePool) take(ctx context.Context) *zygote {
	zp.mu.Lock()
	zp.lastTake = time.Now()
	if len(zp.ready) > 0 {
		z := zp.ready[0]
		zp.ready = slices.Delete(zp.ready, 0, 1)
		zp.mu.Unlock()
		zp.signal()
		return z
	}
	if !zp.spawning || zp.claim != nil {
		zp.mu.Unlock()
		zp.signal()
		return nil
	}
	claim := make(chan *zygote, 1)
	zp.claim = claim
	starting := zp.starting
	zp.mu.Unlock()
	zp.boost(starting)
	select {
	case z := <-claim:
		return z
	case <-ctx.Done():
	}
	zp.mu.Lock()
	if zp.claim == claim {
		zp.claim = nil // the goroutine pools it instead
		zp.mu.Unlock()
		return nil
	}
	zp.mu.Unlock()
	if z := <-claim; z != nil {
		zp.putBack(z)
	}
	return nil
}

// takeReady returns a ready zygote, or nil without waiting for one; the
// pool starts topping up either way.
func (zp *zygotePool) takeReady() *zygote {
	zp.mu.Lock()
	zp.lastTake = time.Now()
	var z *zygote
	if len(zp.ready) > 0 {
		z = zp.ready[0]
		zp.ready = slices.Delete(zp.ready, 0, 1)
	}
	zp.mu.Unlock()
	zp.signal()
	return z
}

// putBack returns a zygote handed to a Start that gave up waiting.
func (zp *zygotePool) putBack(z *zygote) {
	zp.mu.Lock()
	if !zp.closed && !z.dead {
		zp.ready = append(zp.ready, z)
		zp.mu.Unlock()
		return
	}
	zp.mu.Unlock()
	z.destroy(zp.logger)
}

func (zp *zygotePool) signal() {
	select {
	case zp.wake <- struct{}{}:
	default:
	}
}

// exited is called by the reader goroutine of z when its init exited: a
// zygote still in the pool is dropped, reaped and replaced.
func (zp *zygotePool) exited(z *zygote) {
	zp.mu.Lock()
	z.dead = true
	i := slices.Index(zp.ready, z)
	if i < 0 {
		zp.mu.Unlock()
		return // taken (its sandbox reaps it), being started, or closed
	}
	zp.ready = slices.Delete(zp.ready, i, i+1)
	zp.wg.Add(1) // before close can wait: z was in ready, so closed is false
	zp.mu.Unlock()
	defer zp.wg.Done()
	z.release(zp.logger)
	zp.logger.Warn("sandbox: pre-started init exited while waiting", "pid", z.cmd.Process.Pid, "state", z.cmd.ProcessState.String())
	zp.signal()
}

// readyCount returns how many zygotes are ready.
func (zp *zygotePool) readyCount() int {
	zp.mu.Lock()
	defer zp.mu.Unlock()
	return len(zp.ready)
}

// close stops topping up, kills and reaps every ready zygote and waits
// for the goroutine; idempotent.
func (zp *zygotePool) close() {
	zp.mu.Lock()
	if zp.closed {
		zp.mu.Unlock()
		return
	}
	zp.closed = true
	ready := zp.ready
	zp.ready = nil
	zp.mu.Unlock()
	zp.cancel()
	for _, z := range ready {
		z.destroy(zp.logger)
	}
	zp.wg.Wait()
}

// startedIdle records z, just started under SCHED_IDLE by the goroutine,
// and gives it normal scheduling at once if a Start already waits for it.
func (zp *zygotePool) startedIdle(z *zygote) {
	zp.mu.Lock()
	zp.starting = z
	waited := zp.claim != nil
	zp.mu.Unlock()
	if waited {
		zp.boost(z)
	}
}

// boost gives z, started under SCHED_IDLE, the server's scheduling: once
// it is ready, or at once when a cold start waits for it to be. A thread
// that the init creates while its threads are listed inherits from its
// creator, which may still be idle; the boost at ready, when the init only
// waits, catches it.
func (zp *zygotePool) boost(z *zygote) {
	if z == nil {
		return
	}
	if err := setProcessSched(z.cmd.Process.Pid, zp.normal); err != nil {
		zp.logger.Debug("sandbox: restore scheduling of a pre-started init", "err", err)
	}
}
