package pool

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/updraft/updraft/internal/fnlog"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/runtimeapi"
	"github.com/updraft/updraft/internal/runtimes"
	"github.com/updraft/updraft/internal/sandbox"
)

// env is one execution environment.
type env struct {
	id      string
	key     envKey
	version *registry.Version
	pool    *Pool
	proc    *sandbox.Process
	rt      *runtimeapi.Server
	// platform serves the server's API inside the sandbox's network
	// namespace; nil in basic mode.
	platform *http.Server
	logs     *fnlog.Env
	tmpDir   string
	// codeDir and optDir ("" without layers) are the host directories the
	// environment runs from, held from the code source until
	// cleanupFiles gives them back.
	codeDir, optDir string
	// extNames are the external extensions started with the runtime
	// (/opt/extensions), sorted; see extensions.go.
	extNames []string

	// procDone is cancelled when the process tree has exited, which ends
	// any invocation in progress.
	procDone context.Context

	initDuration time.Duration // reported on the first invocation only
	lastUsed     time.Time     // guarded by pool.mu

	mu          sync.Mutex // guards frozen, busy, gen, freezeTimer and freezeGen
	frozen      bool
	busy        bool        // an invocation is running
	gen         uint64      // bumped on every invocation; a stale freeze timer does nothing
	freezeTimer *time.Timer // fires tryFreeze FreezeDelay after a release
	// freezeDelay is the delay the last invocation asked for; written by
	// the goroutine holding the environment, read when it parks.
	freezeDelay time.Duration
	freezeGen   uint64 // the generation freezeTimer was armed for

	// credsExpire is when the environment's credentials expire; it is
	// retired before then. Zero without session credentials.
	credsExpire time.Time

	destroyOnce sync.Once
	dead        atomic.Bool
}

// initFailure carries the function-error result of a failed init.
type initFailure struct{ result *Result }

func (f *initFailure) Error() string { return "pool: init failed" }

func newEnvID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// startEnv creates an environment, runs its init phase and registers it as
// busy with the caller.
func (p *Pool) startEnv(ctx context.Context, key envKey, v *registry.Version) (*env, error) {
	codeDir, err := p.deps.Code.CodeDir(ctx, v.CodeSha256Hex)
	if err != nil {
		return nil, fmt.Errorf("pool: unpack code of %s: %w", v.FunctionName, err)
	}
	optDir, err := p.optDir(ctx, v)
	if err != nil {
		p.deps.Code.ReleaseDir(codeDir)
		return nil, fmt.Errorf("pool: merge layers of %s: %w", v.FunctionName, err)
	}
	e := &env{
		id:      newEnvID(),
		key:     key,
		version: v,
		pool:    p,
		codeDir: codeDir,
		optDir:  optDir,

		extNames: externalExtensions(optDir),
	}
	rtCfg := runtimeapi.Config{
		FunctionName:       v.FunctionName,
		FunctionVersion:    v.Version,
		Handler:            v.Handler,
		ExternalExtensions: e.extNames,
	}
	spec := sandbox.Spec{
		ID:            e.id,
		CodeDir:       codeDir,
		OptDir:        optDir,
		TmpSizeMB:     v.EphemeralMB,
		MemoryLimitMB: v.MemoryMB,
		CPUs:          vcpusForMemory(v.MemoryMB),
		KeepTmp:       true, // for settleTmp, should this environment be reset
	}
	full := p.deps.Sandbox.Level() == sandbox.LevelFull
	// The /tmp of a reset environment of this key, if any (tmp.go).
	carried := p.takeCarried(key)
	// Full isolation mounts a private file system at /tmp; only basic mode
	// needs a host directory, and full mode skips the mkdir on its cold
	// path.
	if p.cfg.TmpRoot != "" && !full {
		if carried != "" {
			spec.TmpDir = carried
		} else {
			spec.TmpDir = filepath.Join(p.cfg.TmpRoot, e.id)
			if err := os.MkdirAll(spec.TmpDir, 0o1777); err != nil {
				e.cleanupFiles()
				return nil, fmt.Errorf("pool: tmp dir: %w", err)
			}
			_ = os.Chmod(spec.TmpDir, 0o1777)
		}
		e.tmpDir = spec.TmpDir
	} else if carried != "" {
		if full {
			spec.TmpImage = carried
		} else {
			removeTmps([]string{carried}, p.logger)
		}
	}
	managed := runtimes.Managed(v.Runtime) && p.deps.Runtimes != nil
	if managed {
		spec.RuntimeDir = p.deps.Runtimes.Dir()
	}
	layout := p.deps.Sandbox.Layout(spec)
	// Full isolation serves the Runtime API inside the sandbox's network
	// namespace, on a socket that exists only once it started; basic
	// isolation listens on the host's loopback now.
	runtimeAPI := layout.RuntimeAPI
	if runtimeAPI == "" {
		if e.rt, err = runtimeapi.New(rtCfg, p.logger.With("env_id", e.id)); err != nil {
			e.cleanupFiles()
			return nil, fmt.Errorf("pool: runtime api for %s: %w", v.FunctionName, err)
		}
		runtimeAPI = e.rt.Addr()
	}
	e.logs = fnlog.NewEnv(p.deps.Logs, v.FunctionName, v.Version)
	logStream := e.logs.Stream()
	var launch *runtimes.Launch
	var cmdPath string
	if managed {
		launch, err = p.deps.Runtimes.Launch(v.Runtime, runtimes.Layout{RuntimeRoot: layout.RuntimeRoot, TaskRoot: layout.TaskRoot, OptRoot: layout.OptRoot, MemoryMB: v.MemoryMB})
		if launch != nil {
			cmdPath = launch.Path
		}
	} else {
		cmdPath, err = findBootstrap(v, codeDir, optDir, layout)
	}
	if err != nil {
		e.cleanupFiles()
		e.closeRuntimeAPI()
		return nil, &initFailure{result: functionErrorResult(v, "Runtime.InvalidEntrypoint", err.Error())}
	}
	// The function writes into a pipe whose read end fnlog owns, so that
	// End can drain what the function printed before it answered. stdout
	// and stderr share it: Lambda puts both in one log stream, one pipe
	// keeps their order, and End checks one pipe instead of two.
	outR, outW, err := os.Pipe()
	if err != nil {
		e.cleanupFiles()
		e.closeRuntimeAPI()
		return nil, fmt.Errorf("pool: output pipe: %w", err)
	}
	e.logs.Attach(outR)
	// The environment's own credentials: a session of the function's
	// role, tagged with the environment so they die with it.
	var creds *Credentials
	if p.deps.Credentials != nil {
		c, err := p.deps.Credentials(v, e.id)
		if err != nil {
			outW.Close()
			e.logs.Close()
			e.cleanupFiles()
			e.closeRuntimeAPI()
			return nil, fmt.Errorf("pool: credentials for %s: %w", v.FunctionName, err)
		}
		creds = &c
		e.credsExpire = c.Expiration
	}
	var cmdArgs []string
	if launch != nil {
		cmdArgs = launch.Args
	}
	spec.Main = sandbox.Command{
		Path:   cmdPath,
		Args:   cmdArgs,
		Env:    p.functionEnv(v, layout, runtimeAPI, logStream, launch, creds),
		Stdout: outW,
		Stderr: outW,
	}
	spec.Extras = extensionCommands(e.extNames, layout, spec.Main)
	if full {
		spec.Template = p.templateFor(v, launch, layout, &spec)
	}
	// Init Duration, as Lambda reports it, starts with the sandbox and
	// ends at the runtime's first /next; unpacking the code is not in it.
	start := time.Now()
	e.proc, err = p.deps.Sandbox.Start(ctx, spec)
	if err != nil && spec.TmpImage != "" {
		// Still ours when Start fails. A carried /tmp is a courtesy: one
		// that cannot be used (damaged, say) must not fail the invocation.
		p.logger.Warn("start on the /tmp of a reset environment failed, starting with an empty one", "env_id", e.id, "function", v.FunctionName, "err", err)
		removeTmps([]string{spec.TmpImage}, p.logger)
		spec.TmpImage = ""
		if ctx.Err() == nil {
			e.proc, err = p.deps.Sandbox.Start(ctx, spec)
		}
	}
	outW.Close()
	if err != nil {
		e.logs.Close()
		e.cleanupFiles()
		e.closeRuntimeAPI()
		return nil, fmt.Errorf("pool: start %s: %w", v.FunctionName, err)
	}
	if out := e.proc.Output(); out != nil {
		// A runtime template that writes to a pipe of its own (Node):
		// the function's output is there, and outR only sees EOF.
		e.logs.Attach(out)
	}
	p.logger.Debug("environment started", "env_id", e.id, "function", v.FunctionName, "runtime_template", e.proc.FromTemplate())
	if e.rt == nil {
		rtCfg.Listener = e.proc.RuntimeAPIListener()
		if e.rt, err = runtimeapi.New(rtCfg, p.logger.With("env_id", e.id)); err != nil {
			_ = e.proc.Kill()
			<-e.proc.Done()
			e.settleTmp(false)
			e.logs.Close()
			e.cleanupFiles()
			return nil, fmt.Errorf("pool: runtime api for %s: %w", v.FunctionName, err)
		}
	}
	e.servePlatformAPI()
	procDone, cancel := context.WithCancel(context.Background())
	e.procDone = procDone
	go func() {
		<-e.proc.Done()
		cancel()
		p.dropIfIdle(e) // a runtime that exits between invocations is not reused
	}()

	if !p.register(e) {
		e.destroy("shutdown")
		return nil, lambdaerr.ServiceUnavailable("The server is shutting down.")
	}

	budget := p.cfg.InitTimeout
	if v.Timeout > budget {
		budget = v.Timeout
	}
	ictx, icancel := context.WithTimeout(ctx, budget)
	stop := context.AfterFunc(procDone, icancel)
	err = e.rt.WaitInit(ictx)
	stop()
	icancel()
	e.initDuration = time.Since(start)
	if err != nil {
		res := e.initErrorResult(err, budget)
		p.forget(e)
		e.destroy("init failed")
		return nil, &initFailure{result: res}
	}
	if o := p.deps.Observer; o != nil {
		o.ColdStart(v.FunctionName, v.Version, e.initDuration)
	}
	return e, nil
}

// forget removes e from its version pool without touching busy counts.
func (p *Pool) forget(e *env) {
	p.mu.Lock()
	p.forgetLocked(e)
	p.mu.Unlock()
}

// initErrorResult turns an init failure into the function error Lambda
// returns for it.
func (e *env) initErrorResult(err error, budget time.Duration) *Result {
	var ie *runtimeapi.InitError
	switch {
	case errors.As(err, &ie):
		payload := ie.Payload
		if !json.Valid(payload) || len(payload) == 0 {
			payload = errorDocument(ie.ErrorType, "init failed")
		}
		e.logs.Line(string(payload))
		return &Result{Payload: payload, FunctionError: "Unhandled", ErrorType: ie.ErrorType, ExecutedVersion: e.version.Version, InitDuration: e.initDuration}
	case e.procDone.Err() != nil:
		<-e.proc.Done()
		msg := "Runtime exited with error: " + e.proc.ExitReason()
		typ := "Runtime.ExitError"
		if e.proc.OOMKilled() {
			typ = "Runtime.OutOfMemory"
		}
		e.logs.Line(msg)
		return &Result{Payload: errorDocument(typ, msg), FunctionError: "Unhandled", ErrorType: typ, ExecutedVersion: e.version.Version, InitDuration: e.initDuration}
	default:
		msg := fmt.Sprintf("Init timed out after %.2f seconds", budget.Seconds())
		e.logs.Line(msg)
		return &Result{Payload: errorDocument("Sandbox.Timedout", msg), FunctionError: "Unhandled", ErrorType: "Sandbox.Timedout", ExecutedVersion: e.version.Version, InitDuration: e.initDuration}
	}
}

type invokeOutcome struct {
	Result
	broken bool // the environment must be destroyed
}

// invoke runs one invocation in e, which the caller has acquired.
func (e *env) invoke(ctx context.Context, req *Request) invokeOutcome {
	v := e.version
	e.mu.Lock()
	e.gen++
	e.busy = true
	if e.freezeTimer != nil {
		e.freezeTimer.Stop()
	}
	if e.frozen {
		if err := e.proc.Thaw(); err != nil {
			e.mu.Unlock()
			return invokeOutcome{Result: *functionErrorResult(v, "Sandbox.Failure", "thaw: "+err.Error()), broken: true}
		}
		e.frozen = false
	}
	e.mu.Unlock()

	start := time.Now()
	deadline := start.Add(v.Timeout)
	e.logs.Begin(req.RequestID, v.Version)
	ictx, cancel := context.WithDeadline(ctx, deadline)
	stop := context.AfterFunc(e.procDone, cancel)
	resp, err := e.rt.Invoke(ictx, &runtimeapi.Invocation{
		RequestID:          req.RequestID,
		Payload:            req.Payload,
		Deadline:           deadline,
		InvokedFunctionARN: req.InvokedARN,
		TraceID:            req.TraceID,
		ClientContext:      req.ClientContext,
		Stream:             req.Stream,
	})
	stop()
	cancel()
	if err == nil && resp.FunctionError && resp.ErrorType == "Runtime.TruncatedResponse" && e.exitsSoon() {
		err = errRuntimeExited // reported as the crash it is, below
	}
	duration := time.Since(start)

	out := invokeOutcome{Result: Result{ExecutedVersion: v.Version, Duration: duration}}
	status := ""
	switch {
	case err == nil:
		out.Payload = resp.Payload
		if resp.FunctionError {
			out.FunctionError = "Unhandled"
			out.ErrorType = resp.ErrorType
			status = "error"
			// The runtime was refused (oversized or malformed answer) and
			// runtimes exit on that: reset the environment as Lambda does.
			out.broken = runtimeRefused(resp.ErrorType)
		}
	case e.procDone.Err() != nil:
		<-e.proc.Done()
		typ := "Runtime.ExitError"
		if e.proc.OOMKilled() {
			typ = "Runtime.OutOfMemory"
		}
		msg := "RequestId: " + req.RequestID + " Error: Runtime exited with error: " + e.proc.ExitReason()
		e.logs.Line(msg + " " + typ)
		out.Payload = errorDocument(typ, msg)
		out.FunctionError, out.ErrorType, out.broken, status = "Unhandled", typ, true, "error"
	case errors.Is(err, context.DeadlineExceeded) || ictx.Err() != nil:
		secs := strconv.FormatFloat(v.Timeout.Seconds(), 'f', 2, 64)
		e.logs.Line(fnlog.TimeoutLine(time.Now(), req.RequestID, v.Timeout))
		out.Payload = errorDocument("Sandbox.Timedout", "RequestId: "+req.RequestID+" Error: Task timed out after "+secs+" seconds")
		out.FunctionError, out.ErrorType, out.broken, status = "Unhandled", "Sandbox.Timedout", true, "timeout"
	default:
		out.Payload = errorDocument("Sandbox.Failure", "RequestId: "+req.RequestID+" Error: "+err.Error())
		out.FunctionError, out.ErrorType, out.broken, status = "Unhandled", "Sandbox.Failure", true, "error"
	}
	if out.broken {
		// Kill before reporting so Max Memory Used and the tail are final.
		e.proc.Kill()
	}
	init := e.initDuration
	e.initDuration = 0
	out.InitDuration = init
	out.LogTail = e.logs.End(fnlog.Report{
		RequestID:       req.RequestID,
		Duration:        duration,
		MemorySizeMB:    v.MemoryMB,
		MaxMemoryUsedMB: int((e.proc.MaxMemoryUsedBytes() + (1<<20 - 1)) >> 20),
		InitDuration:    init,
		Status:          status,
	})
	return out
}

// errRuntimeExited stands for a runtime that died while answering.
var errRuntimeExited = errors.New("pool: runtime exited while answering")

// crashGrace is how long a truncated answer waits for its process to be
// seen exiting.
const crashGrace = 200 * time.Millisecond

// exitsSoon reports whether e's process exits within crashGrace. A runtime
// that dies mid-answer (a streamed response, typically) cuts its body
// before its exit is noticed; Lambda reports the exit (Runtime.ExitError),
// not the truncated body.
func (e *env) exitsSoon() bool {
	t := time.NewTimer(crashGrace)
	defer t.Stop()
	select {
	case <-e.procDone.Done():
		return true
	case <-t.C:
		return false
	}
}

// parkAndFreeze marks e idle and arms its freeze timer. It must run before
// e is visible on the idle list. A timer rather than a goroutine waiting on
// a channel keeps the invoke path free of a wake-up per call: when e is
// taken again within FreezeDelay the timer is just stopped.
func (e *env) parkAndFreeze() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.busy = false
	g := e.gen
	e.armFreezeLocked(g, max(e.freezeDelay, e.pool.cfg.FreezeDelay))
}

// armFreezeLocked schedules tryFreeze(g) after d.
func (e *env) armFreezeLocked(g uint64, d time.Duration) {
	if e.freezeTimer == nil {
		e.freezeTimer = time.AfterFunc(d, func() { e.tryFreeze() })
	} else {
		e.freezeTimer.Reset(d)
	}
	e.freezeGen = g
}

// tryFreeze freezes e if it is still idle in the generation the timer was
// armed for and its runtime is parked in /next; a runtime still finishing
// its answer is checked again shortly.
func (e *env) tryFreeze() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gen != e.freezeGen || e.busy || e.frozen || e.dead.Load() {
		return
	}
	select {
	case <-e.rt.Parked():
	default:
		e.armFreezeLocked(e.freezeGen, time.Millisecond)
		return
	}
	if err := e.proc.Freeze(); err == nil {
		e.frozen = true
	} else if !e.dead.Load() {
		e.pool.logger.Warn("freeze failed", "env_id", e.id, "err", err)
	}
}

// destroy kills the process tree and releases every resource; idempotent.
func (e *env) destroy(reason string) {
	e.destroyOnce.Do(func() {
		e.dead.Store(true)
		e.mu.Lock()
		if e.freezeTimer != nil {
			e.freezeTimer.Stop()
		}
		e.mu.Unlock()
		e.pool.logger.Debug("destroy environment", "env_id", e.id, "function", e.key.function, "reason", reason)
		if e.proc != nil {
			e.stop(reason) // SHUTDOWN to extensions first, if any
			<-e.proc.Done()
			e.settleTmp(resetKeepsTmp(reason))
		}
		e.closeRuntimeAPI()
		if e.platform != nil {
			_ = e.platform.Close()
		}
		_ = e.logs.Close()
		e.cleanupFiles()
		if !e.credsExpire.IsZero() && e.pool.deps.RevokeCredentials != nil {
			e.pool.deps.RevokeCredentials(e.id)
		}
	})
}

// closeRuntimeAPI closes the Runtime API server, if there is one yet.
func (e *env) closeRuntimeAPI() {
	if e.rt != nil {
		e.rt.Close()
	}
}

// servePlatformAPI serves the server's API on the sandbox's platform
// socket (what AWS_ENDPOINT_URL points to inside a full-mode sandbox).
func (e *env) servePlatformAPI() {
	ln := e.proc.PlatformAPIListener()
	h := e.pool.platformAPI.Load()
	if ln == nil || h == nil {
		return
	}
	e.platform = &http.Server{
		Handler:           *h,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(e.pool.logger.Handler(), slog.LevelDebug),
	}
	go func() { _ = e.platform.Serve(ln) }()
}

// cleanupFiles removes the environment's basic-mode /tmp and gives its
// code and layer directories back; called once its processes are gone.
func (e *env) cleanupFiles() {
	if e.tmpDir != "" {
		_ = os.RemoveAll(e.tmpDir)
	}
	if e.codeDir != "" {
		e.pool.deps.Code.ReleaseDir(e.codeDir)
		e.codeDir = ""
	}
	if e.optDir != "" {
		e.pool.deps.Code.ReleaseDir(e.optDir)
		e.optDir = ""
	}
}

// findBootstrap finds the executable to start, as Lambda does for custom
// runtimes: bootstrap in the code (/var/task/bootstrap), then in the
// merged layers (/opt/bootstrap). optDir is the host directory of the
// layers, "" without layers.
func findBootstrap(v *registry.Version, codeDir, optDir string, layout sandbox.Layout) (string, error) {
	if strings.HasPrefix(v.Runtime, "provided") {
		if st, err := os.Stat(filepath.Join(codeDir, "bootstrap")); err == nil && st.Mode()&0o111 != 0 {
			return filepath.Join(layout.TaskRoot, "bootstrap"), nil
		}
		if optDir != "" && layout.OptRoot != "" {
			if st, err := os.Stat(filepath.Join(optDir, "bootstrap")); err == nil && st.Mode()&0o111 != 0 {
				return filepath.Join(layout.OptRoot, "bootstrap"), nil
			}
		}
		return "", fmt.Errorf("Couldn't find valid bootstrap(s): [%s/bootstrap /opt/bootstrap]", layout.TaskRoot)
	}
	return "", fmt.Errorf("runtime %s is not available on this server yet", v.Runtime)
}

// logGroup is the function's log group: its LoggingConfig's, else
// Lambda's default.
func logGroup(v *registry.Version) string {
	if v.LogGroup != "" {
		return v.LogGroup
	}
	return "/aws/lambda/" + v.FunctionName
}

// functionEnv builds the environment variables of the function process.
// Each name appears once, since programs disagree on which of two values
// wins (os/exec keeps the last, getenv the first): the function's own
// variables replace the unreserved defaults (TZ, LANG, PATH, ...) as on
// Lambda, and never the platform's reserved ones.
func (p *Pool) functionEnv(v *registry.Version, layout sandbox.Layout, runtimeAPI, logStream string, launch *runtimes.Launch, creds *Credentials) []string {
	envs := make([]string, 0, 32+len(v.Env))
	reserved := make(map[string]bool, 32)
	add := func(k, val string) { envs = append(envs, k+"="+val); reserved[k] = true }
	def := func(k, val string) {
		if _, set := v.Env[k]; !set {
			envs = append(envs, k+"="+val)
		}
	}
	add("_HANDLER", v.Handler)
	add("AWS_REGION", p.cfg.Region)
	add("AWS_DEFAULT_REGION", p.cfg.Region)
	add("AWS_LAMBDA_FUNCTION_NAME", v.FunctionName)
	add("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", strconv.Itoa(v.MemoryMB))
	add("AWS_LAMBDA_FUNCTION_VERSION", v.Version)
	add("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
	add("AWS_LAMBDA_LOG_GROUP_NAME", logGroup(v))
	// "Configuring advanced logging controls": with the JSON format the
	// runtime learns the format and the application log level (INFO
	// unless configured) from these; with Text Lambda sets neither, and
	// Python's runtime leaves its root logger at WARNING.
	if strings.EqualFold(v.LogFormat, "JSON") {
		level := v.ApplicationLogLevel
		if level == "" {
			level = "INFO"
		}
		add("AWS_LAMBDA_LOG_FORMAT", "JSON")
		add("AWS_LAMBDA_LOG_LEVEL", level)
	}
	add("AWS_LAMBDA_LOG_STREAM_NAME", logStream)
	add("AWS_LAMBDA_RUNTIME_API", runtimeAPI)
	add("LAMBDA_TASK_ROOT", layout.TaskRoot)
	if layout.RuntimeRoot != "" {
		add("LAMBDA_RUNTIME_DIR", layout.RuntimeRoot)
	} else {
		add("LAMBDA_RUNTIME_DIR", "/var/runtime")
	}
	def("TZ", ":UTC")
	def("LANG", "en_US.UTF-8")
	def("PATH", "/usr/local/bin:/usr/bin/:/bin:"+layout.OptRoot+"/bin")
	def("LD_LIBRARY_PATH", "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"+layout.TaskRoot+":"+layout.TaskRoot+"/lib:"+layout.OptRoot+"/lib")
	def("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR")
	if !strings.HasPrefix(v.Runtime, "provided") {
		add("AWS_EXECUTION_ENV", "AWS_Lambda_"+v.Runtime)
	}
	if layout.TmpDir != "/tmp" {
		add("TMPDIR", layout.TmpDir)
	}
	switch {
	case creds != nil:
		add("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
		add("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
		add("AWS_SESSION_TOKEN", creds.SessionToken)
	case p.cfg.AccessKeyID != "":
		add("AWS_ACCESS_KEY_ID", p.cfg.AccessKeyID)
		add("AWS_SECRET_ACCESS_KEY", p.cfg.SecretAccessKey)
		add("AWS_SESSION_TOKEN", "")
	}
	endpoint := p.cfg.EndpointURL
	if layout.PlatformAPI != "" && p.platformAPI.Load() != nil {
		endpoint = "http://" + layout.PlatformAPI
	}
	if endpoint != "" {
		def("AWS_ENDPOINT_URL", endpoint)
		def("AWS_ENDPOINT_URL_LAMBDA", endpoint)
	}
	if launch != nil {
		for k, val := range launch.Env {
			def(k, val)
		}
	}
	for k, val := range v.Env {
		if !reserved[k] {
			envs = append(envs, k+"="+val)
		}
	}
	return envs
}

// runtimeRefused reports error types the platform assigns when it refused
// the runtime's answer, after which the environment is reset.
func runtimeRefused(errorType string) bool {
	switch errorType {
	case "Function.ResponseSizeTooLarge", "Runtime.TruncatedResponse", "Runtime.InvalidResponseModeHeader":
		return true
	}
	return false
}

// errorDocument is Lambda's function error body.
func errorDocument(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{typ, msg})
	return b
}

func functionErrorResult(v *registry.Version, typ, msg string) *Result {
	return &Result{Payload: errorDocument(typ, msg), FunctionError: "Unhandled", ErrorType: typ, ExecutedVersion: v.Version}
}

// memoryPerVCPU is the memory size that buys one vCPU: Lambda allocates CPU
// in proportion to memory, the equivalent of one vCPU at 1,769 MB and six
// at 10,240 MB.
const memoryPerVCPU = 1769

// vcpusForMemory is how many CPUs an environment of memoryMB may run on:
// its vCPU share rounded up. Below 1,769 MB Lambda gives a fraction of one
// vCPU; one whole CPU is the nearest bound an affinity mask can express,
// and it makes runtimes that size their thread pools from the CPU count
// (Go's GOMAXPROCS, Node's availableParallelism) match that budget instead
// of the host's.
func vcpusForMemory(memoryMB int) int {
	if memoryMB <= 0 {
		return 0
	}
	return (memoryMB + memoryPerVCPU - 1) / memoryPerVCPU
}
