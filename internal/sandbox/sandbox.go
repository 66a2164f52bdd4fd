package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Level is the isolation level a [Manager] provides to every sandbox.
type Level string

const (
	// LevelFull confines each sandbox with cgroups, namespaces, read-only
	// bind mounts and an unprivileged uid.
	LevelFull Level = "full"
	// LevelBasic runs each sandbox as a process group of the server's user,
	// with memory watched from /proc and freezing by signals.
	LevelBasic Level = "basic"
)

// Fixed paths a sandbox sees in full mode.
const (
	// TaskRootFull is where the code directory appears in full mode.
	TaskRootFull = "/var/task"
	// OptRootFull is where the layers directory appears in full mode.
	OptRootFull = "/opt"
	// RuntimeRootFull is where the runtime directory (updraft's runtime
	// interface clients) appears in full mode: Lambda's /var/runtime.
	RuntimeRootFull = "/var/runtime"
	// TmpDirFull is the private tmpfs of a full-mode sandbox.
	TmpDirFull = "/tmp"
)

// Defaults applied by [New] and [Manager.Start].
const (
	// DefaultCgroupName names the parent cgroup of all sandboxes.
	DefaultCgroupName = "updraft"
	// DefaultMemoryPollInterval is how often memory is sampled where the
	// kernel does not track the peak itself.
	DefaultMemoryPollInterval = 50 * time.Millisecond
	// DefaultPidsLimit is the process/thread limit when [Spec.PidsLimit] is
	// 0; Lambda allows 1,024.
	DefaultPidsLimit = 1024
	// DefaultTmpSizeMB is the /tmp size when [Spec.TmpSizeMB] is 0; Lambda's
	// default ephemeral storage is 512 MB.
	DefaultTmpSizeMB = 512
	// UnprivilegedID is the uid and gid sandboxes run as in full mode
	// (nobody/nogroup).
	UnprivilegedID = 65534
	// DefaultZygotes is how many blank full-mode sandboxes are kept
	// pre-started when [Config.Zygotes] is 0.
	DefaultZygotes = 2
)

// Errors returned by this package; test with errors.Is.
var (
	// ErrClosed is returned by [Manager.Start] after [Manager.Close].
	ErrClosed = errors.New("sandbox: manager closed")
	// ErrExited is returned by [Process.Freeze] and [Process.Thaw] once the
	// process was killed or has exited.
	ErrExited = errors.New("sandbox: process exited")
	// ErrInvalidSpec wraps every validation failure of a [Spec].
	ErrInvalidSpec = errors.New("sandbox: invalid spec")
)

// Config configures a [Manager].
type Config struct {
	// ForceBasic selects [LevelBasic] even when full isolation is possible.
	ForceBasic bool
	// CgroupName names the parent cgroup, shared by every Manager on the
	// machine that uses the same name, beneath which each Manager keeps its
	// sandboxes' cgroups in a directory of its own and reaps those of dead
	// servers (see the package documentation); "" means
	// [DefaultCgroupName]. It must be a single path element.
	CgroupName string
	// MemoryPollInterval is how often the basic-mode watcher (and the cgroup
	// v2 fallback without memory.peak) samples memory; 0 means
	// [DefaultMemoryPollInterval].
	MemoryPollInterval time.Duration
	// Zygotes is how many blank sandboxes full mode keeps started ahead of
	// need (inits already re-executed in their namespaces, waiting for a
	// Spec), which takes the re-execution off the cold-start path; 0 means
	// [DefaultZygotes], negative means none. Each costs an idle process of
	// the server's binary (a few MB of private memory) and, on cgroup v1,
	// a cgroup named ".zygote-PID-N" in the Manager's directory.
	Zygotes int
	// ConcurrentStarts bounds how many full-mode inits (cold starts and
	// pre-starts) are being started at once; 0 means max(2, GOMAXPROCS).
	// Each start holds one of the server's Ps while it clones (see
	// launchGate), so an unbounded burst of cold starts stalls the
	// server's warm invocations.
	ConcurrentStarts int
	// Network is what a full-mode sandbox's own network namespace reaches
	// besides its Runtime API and the platform API: [NetworkEgress]
	// (outbound connections through a user-mode stack, never the host)
	// or [NetworkIsolated]; "" means egress where slirp4netns is
	// installed, else isolated. Basic mode shares the host's network.
	Network NetworkMode
	// ScratchDir holds the disk images behind full-mode sandboxes' /tmp
	// (ephemeral storage, its full size reserved on disk, apart from
	// memory); "" mounts a tmpfs instead, charged to the memory limit.
	ScratchDir string
	// ScratchSparse makes those images sparse: a cold start does not pay
	// for reserving the space, and a sandbox holds no more disk than it
	// wrote, but sandboxes then share the free space of ScratchDir's file
	// system (and, when it is full, a write to /tmp fails with an I/O
	// error instead of ENOSPC at the configured size).
	ScratchSparse bool
	// EgressAllow are ranges egress mode may reach although they are
	// private (deniedRanges); the host's own addresses stay unreachable
	// unless listed exactly.
	EgressAllow []netip.Prefix
}

// NetworkMode is the outbound network policy of full-mode sandboxes.
type NetworkMode string

const (
	// NetworkEgress gives each sandbox outbound connections through a
	// user-mode network stack of its own (slirp4netns), as a Lambda
	// function reaches the internet; private ranges and the host are
	// unreachable unless allowed.
	NetworkEgress NetworkMode = "egress"
	// NetworkIsolated gives each sandbox only its loopback: its Runtime
	// API and the platform API.
	NetworkIsolated NetworkMode = "isolated"
)

// Status describes the isolation a [Manager] provides, for /healthz and the
// start-up log.
type Status struct {
	// Level is the isolation level.
	Level Level `json:"level"`
	// CgroupVersion is "v1", "v2", or "" when cgroups are not used.
	CgroupVersion string `json:"cgroupVersion"`
	// Freezer is "cgroup" or "signal" (SIGSTOP/SIGCONT).
	Freezer string `json:"freezer"`
	// Namespaces reports whether sandboxes get their own mount, pid, ipc and
	// uts namespaces.
	Namespaces bool `json:"namespaces"`
	// RunAsUID is the uid sandbox processes run as.
	RunAsUID int `json:"runAsUid"`
	// MemoryEnforcement is "cgroup" or "watcher".
	MemoryEnforcement string `json:"memoryEnforcement"`
	// Network is the network mode of full-mode sandboxes ("egress" or
	// "isolated"), "host" in basic mode.
	Network string `json:"network"`
	// Reason says why full isolation is not available, or why egress is
	// not; "" when nothing is missing.
	Reason string `json:"reason,omitempty"`
}

// Describe says what s means for a person, in one line: "namespaces,
// cgroup v1 (memory limit and freezer), uid 65534, network egress".
func (s Status) Describe() string {
	var parts []string
	if s.Namespaces {
		parts = append(parts, "own namespaces (mount, pid, ipc, uts, network)")
	} else {
		parts = append(parts, "no namespaces (a process group per function)")
	}
	mem := "memory limit by a watcher"
	if s.MemoryEnforcement == "cgroup" {
		mem = "memory limit by the cgroup"
	}
	freeze := "freezing by SIGSTOP"
	if s.Freezer == "cgroup" {
		freeze = "freezing by the cgroup freezer"
	}
	if s.CgroupVersion != "" {
		parts = append(parts, "cgroup "+s.CgroupVersion+" ("+mem+", "+freeze+")")
	} else {
		parts = append(parts, mem, freeze)
	}
	parts = append(parts, fmt.Sprintf("functions run as uid %d", s.RunAsUID))
	switch s.Network {
	case "egress":
		parts = append(parts, "network: outbound only")
	case "isolated":
		parts = append(parts, "network: none")
	case "host":
		parts = append(parts, "network: the host's")
	}
	out := strings.Join(parts, ", ")
	if s.Reason != "" {
		out += "; " + s.Reason
	}
	return out
}

// Layout is the set of paths a sandbox's processes see. In full mode they
// are the fixed Lambda paths; in basic mode they are the host paths of the
// [Spec].
type Layout struct {
	// TaskRoot holds the function code (LAMBDA_TASK_ROOT) and is the
	// working directory of every command.
	TaskRoot string
	// OptRoot holds the layers; "" in basic mode when the Spec has none.
	OptRoot string
	// TmpDir is the writable temporary directory.
	TmpDir string
	// RuntimeRoot holds the runtime interface clients; "" in basic mode
	// when the Spec has none.
	RuntimeRoot string
	// RuntimeAPI is the address the Runtime API must be served on as the
	// processes see it: [RuntimeAPIAddrFull] in full mode, where
	// [Process.RuntimeAPIListener] is that socket; "" in basic mode, where
	// the caller listens on the host's loopback itself.
	RuntimeAPI string
	// PlatformAPI is the address at which the processes reach the
	// server's API through [Process.PlatformAPIListener]; "" in basic
	// mode, where they reach the server's own listener.
	PlatformAPI string
}

// Command is one program to run inside a sandbox.
type Command struct {
	// Path is the program; a name without a slash is looked up in the PATH
	// of Env. Build it from [Manager.Layout].
	Path string
	// Args are the arguments after the program name (argv[1:]); argv[0] is
	// Path, as with exec.Command.
	Args []string
	// Env is the complete environment; nothing is inherited from the
	// server. In basic mode TMPDIR is set to the Spec's TmpDir.
	Env []string
	// Stdout and Stderr receive the program's output; nil discards it. An
	// *os.File (say, the write end of the caller's pipe) is handed to the
	// program directly, as os/exec does, so the caller may close its copy
	// after Start. Any other writer is fed by a goroutine of the Process
	// through a pipe; when both are the same writer the two streams share
	// that pipe and keep their relative order.
	Stdout, Stderr io.Writer
}

// Spec describes one sandbox.
type Spec struct {
	// ID identifies the environment and names its cgroup: letters, digits,
	// '-', '_' and '.', not starting with '.', at most 128 bytes.
	ID string
	// Main is the runtime; the sandbox ends when it exits.
	Main Command
	// Extras are started before Main (Lambda extensions) and killed when
	// Main exits.
	Extras []Command
	// CodeDir is the host directory with the function code. In full mode it
	// appears read-only at /var/task and must be readable by uid 65534.
	CodeDir string
	// OptDir is the host directory with the merged layers, or "". In full
	// mode it appears read-only at /opt (an empty /opt when "").
	OptDir string
	// RuntimeDir is the host directory with updraft's runtime interface
	// clients, or "". In full mode it appears read-only at /var/runtime and
	// must be readable by uid 65534.
	RuntimeDir string
	// TmpDir is the host directory used as TMPDIR in basic mode; it is
	// created if missing. Full mode mounts a private file system at /tmp
	// instead: on disk when [Config.ScratchDir] is set, else a tmpfs.
	TmpDir string
	// TmpSizeMB sizes the full-mode /tmp in MiB; 0 means
	// [DefaultTmpSizeMB]. Basic mode does not enforce it.
	TmpSizeMB int
	// KeepTmp keeps the disk image behind a full-mode /tmp when the
	// sandbox ends, for [Process.TmpImage], instead of removing it: the
	// caller decides then whether the sandbox that replaces this one
	// starts on it (a reset, after which Lambda's /tmp survives) or not.
	// Without it the image is unlinked as soon as it is mounted. Basic
	// mode and a tmpfs /tmp ignore it.
	KeepTmp bool
	// TmpImage is an image that an ended sandbox kept
	// ([Process.TmpImage]), to mount at /tmp as it is, files included,
	// in place of a fresh file system; its size is the image's, not
	// TmpSizeMB. Full mode only. Once Start succeeds the image is the
	// sandbox's (removed with it unless KeepTmp); when Start fails it is
	// still the caller's.
	TmpImage string
	// MemoryLimitMB is the memory limit in MiB; 0 means no limit. In full
	// mode tmpfs pages written to /tmp count against it too, as the kernel
	// charges them to the writer's cgroup.
	MemoryLimitMB int
	// PidsLimit caps processes and threads in full mode; 0 means
	// [DefaultPidsLimit].
	PidsLimit int
	// Template names a runtime template ([Manager.StartTemplate]) whose
	// pre-started runtime may run Main instead of a new process: its
	// command and RuntimeDir must be the template's, and the caller
	// vouches that Main.Env changes nothing the runtime fixed at its
	// start. Main then gets Main.Env on assignment. When no sandbox of the
	// template is ready (or in basic mode) Main is started as usual.
	Template string
	// CPUs is how many of the server's CPUs the processes may run on, the
	// least used ones at start; 0, or as many as the server has, means
	// all of them.
	CPUs int
}

// validate checks the fields both levels rely on.
func (s *Spec) validate() error {
	var problems []string
	if !validID(s.ID) {
		problems = append(problems, fmt.Sprintf("ID %q must be 1-128 letters, digits, '-', '_' or '.', not starting with '.'", s.ID))
	}
	if s.Main.Path == "" {
		problems = append(problems, "Main.Path is empty")
	}
	for i, c := range s.Extras {
		if c.Path == "" {
			problems = append(problems, fmt.Sprintf("Extras[%d].Path is empty", i))
		}
	}
	if s.CodeDir == "" {
		problems = append(problems, "CodeDir is empty")
	}
	if s.TmpSizeMB < 0 || s.MemoryLimitMB < 0 || s.PidsLimit < 0 || s.CPUs < 0 {
		problems = append(problems, "TmpSizeMB, MemoryLimitMB, PidsLimit and CPUs must not be negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidSpec, strings.Join(problems, "; "))
	}
	return nil
}

// validID reports whether id is safe as a single cgroup path element.
func validID(id string) bool {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// commands returns Extras followed by Main: the start order.
func (s *Spec) commands() []Command {
	cmds := make([]Command, 0, len(s.Extras)+1)
	cmds = append(cmds, s.Extras...)
	return append(cmds, s.Main)
}

func (s *Spec) pidsLimit() int {
	if s.PidsLimit == 0 {
		return DefaultPidsLimit
	}
	return s.PidsLimit
}

func (s *Spec) tmpSizeMB() int {
	if s.TmpSizeMB == 0 {
		return DefaultTmpSizeMB
	}
	return s.TmpSizeMB
}

// sameWriter reports whether a and b are the same non-nil writer, without
// panicking on incomparable dynamic types (as os/exec does).
func sameWriter(a, b io.Writer) (same bool) {
	if a == nil || b == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}
