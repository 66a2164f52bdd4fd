// Package sandbox runs the process tree of one execution environment: it
// spawns the commands, confines them as far as the host allows, freezes and
// thaws them between invocations, measures their memory and kills them. It
// knows nothing about Lambda protocols; internal/pool composes it with
// internal/runtimeapi into an environment.
//
// # Isolation levels
//
// [New] detects once what the host allows and reports it through
// [Manager.Status] (shown on /healthz and logged at start-up):
//
//   - [LevelFull]: the server runs as root, a cgroup hierarchy (v1 or v2) is
//     writable and new namespaces can be created. Every environment gets its
//     own cgroup (memory limit with swap off, pids limit, freezer), new
//     mount, pid, ipc, uts and network namespaces, a minimal root entered
//     with pivot_root (the code read-only at /var/task, the layers at /opt,
//     the runtime clients at /var/runtime, a disk-backed /tmp sized by
//     EphemeralStorage, the host's /usr and libraries read-only, a written
//     /etc and a minimal /dev), and its commands run as uid/gid 65534 with
//     no_new_privs, no capabilities and a seccomp filter.
//   - [LevelBasic]: anything less, or [Config.ForceBasic]. Each environment
//     is one process group running as the server's user, sees its
//     directories at their host paths, gets a private TMPDIR, has its memory
//     watched by polling /proc (and is SIGKILLed past its limit), and is
//     frozen with SIGSTOP/SIGCONT.
//
// The caller asks [Manager.Layout] where the process will find its code,
// layers and temporary directory, builds the environment variables and the
// command path from that, and then calls [Manager.Start].
//
// # Lifecycle of a Process
//
// Start spawns the [Spec.Extras] (future Lambda extensions) and then
// [Spec.Main] (the runtime) and returns once all of them were executed. The
// context given to Start bounds only that start-up; the process then lives
// until its main command exits or it is killed. Between invocations the
// caller [Process.Freeze]s it and [Process.Thaw]s it again on the next
// invocation; Thaw is on the warm-invoke path and costs one or two system
// calls. [Process.Terminate] asks politely (SIGTERM) and [Process.Kill] does
// not ask. When the main command exits, every other process of the sandbox
// is killed, output is drained, resource figures are collected, the cgroups
// are removed and [Process.Done] is closed; then [Process.ExitReason],
// [Process.OOMKilled] and [Process.MaxMemoryUsedBytes] hold their final
// values.
//
// The disk image behind a full-mode /tmp is unlinked once mounted, unless
// the Spec says [Spec.KeepTmp]: then it stays while the sandbox lives, and
// the teardown, before closing Done, waits until the loop device has let
// go of it and offers it as [Process.TmpImage]. A later sandbox started
// with [Spec.TmpImage] mounts it again as it is, files included, in place
// of a fresh /tmp. internal/pool does this for the environment that
// replaces one reset by a timeout, a crash or an out-of-memory kill,
// since on Lambda /tmp survives a reset.
//
// # How full mode starts a sandbox
//
// Namespaces and mounts need code that runs between clone and exec, which
// Go's os/exec cannot run. Full mode therefore re-executes the server's own
// binary (/proc/self/exe) with argv[0] set to "updraft-sandbox-init" in new
// mount, pid, ipc and uts namespaces. Every binary that may start full-mode
// sandboxes must call [RunInitIfRequested] first thing in main (tests: in
// TestMain); New falls back to basic when it was not called, so a binary
// that forgets it never re-executes itself as a server.
//
// The init is pid 1 of the new pid namespace and talks to the server over
// a unix socket (fd 3), one JSON document per line. It starts blank, as a
// zygote: it stops mount propagation towards the host (the host's later
// mounts still reach it), mounts its /tmp (a loop device attached to the
// setup line), builds the minimal root with a fresh /proc and pivots into
// it, sets the open-file limit, moves itself into a cgroup of its own (so
// the memory its start-up allocated stays charged to the server), and
// reports "ready"; the server then prepares its network namespace. The spec then arrives with the commands' output descriptors
// attached (SCM_RIGHTS: the caller's *os.File as is, or a pipe the Process
// copies to the [Command]'s writer). The init bind-mounts the code and
// layers read-only, replaces /tmp when the spec asks for another size,
// detaches the host's root, starts the commands with uid/gid 65534, and
// reports their start. It forwards SIGTERM, reaps
// orphans, and when the main command exits it reports the wait status and
// exits; the kernel then kills whatever remains in the pid namespace.
//
// Re-executing a 30 MB binary and running its package initialisers is
// most of what a full-mode start used to cost, so the Manager keeps
// [Config.Zygotes] of them ready. Start takes the oldest, renames its
// cgroup to the sandbox's ID, writes the memory and pids limits (before any
// of the function's code runs), sends the spec and waits for "started";
// a zygote that died while it waited is dropped and replaced. When none is
// ready Start takes the one the pool is starting, if no other Start waits
// for it, and otherwise starts one itself. A goroutine tops the pool up: at
// once when it ran dry, otherwise after a quiet spell, because a zygote
// starting next to a runtime that is starting slows that runtime down.
// cgroup v2 cannot rename cgroups, so there a zygote waits in the server's
// cgroup and enters the sandbox's, created by Start, with its spec.
// [Manager.Close] kills the zygotes and removes their cgroups.
//
// Two kernel details shape the hot path. The cgroup v1 freezer flips a
// kernel static key whenever the number of freezing cgroups moves between
// zero and one, which costs milliseconds; the Manager keeps an empty cgroup
// frozen for its lifetime so Freeze and Thaw never pay that. The init runs
// with GOMAXPROCS=1 so it adds few threads to wake on every Thaw.
//
// # Runtime templates
//
// [Manager.StartTemplate] keeps further pools of zygotes in which a
// managed runtime (a [Template]: Python, Node.js) already runs, started
// by the init in the zygote phase once the root is final and the
// runtime directory mounted, as uid 65534 with every restriction of a
// command (from a locked thread of its own, so the init keeps its
// privileges for the spec's mounts). The runtime says "ready" on a
// SOCK_SEQPACKET socket ([TemplateFDEnv]) before the init reports ready.
// A [Spec] naming a template it fits ([Spec.Template]) takes one of those
// zygotes when one is ready, never waiting for one; the init applies the
// spec as usual (mounts, cgroup, hostname, the host's root detached),
// gives the runtime the sandbox's CPU set and normal scheduling, and
// hands it the main command's environment with its output descriptors
// instead of starting the command. A template whose runtime cannot take
// descriptors ([Template].OwnOutput) writes to an output pipe of its
// zygote from the start, handed out as [Process.Output]. Nothing is
// forked from a shared interpreter: each runtime serves one sandbox.
//
// # Cgroups of dead servers
//
// Managers with the same [Config.CgroupName] share that parent cgroup;
// each keeps its sandboxes, its zygotes and its freezer pin in a directory
// of its own beneath it, named pid<P>-start<T>-ns<N>-<seq> for its process
// (pid, start time, pid namespace) and its rank among the process's
// Managers. A server killed with SIGKILL leaves its warm sandboxes behind:
// the inits have Pdeathsig SIGKILL, but a frozen task acts on no signal
// until it is thawed. So New, before it creates its own cgroups, reaps the
// trees whose owner is certainly dead (the pid is unused, reused by a
// process with another start time, or a zombie) in every mounted hierarchy:
// it SIGKILLs every task, thaws, waits (bounded) for the cgroups to empty,
// removes them deepest first and logs the counts at Info. It looks under
// the server's own cgroup and the hierarchy root, and follows the tasks'
// /proc/PID/cgroup to hierarchies where the dead server's own cgroup was
// another. Every doubt
// keeps a tree: a running owner, one in another pid namespace, an
// unreadable /proc, a name that is not an owner's. The trees of this
// process are never judged dead. [Manager.Close] removes its own tree and
// the shared parent once it is empty.
//
// # What a full-mode sandbox sees
//
// Its network namespace has a loopback and, with [NetworkEgress], a tap
// device of a slirp4netns process of its own, with unreachable routes to
// private ranges, the host's addresses and the stack's gateway (except
// [Config.EgressAllow]). The server creates two listening sockets in the
// namespace while the sandbox is a zygote ([RuntimeAPIAddrFull] and
// [PlatformAPIAddrFull]) and hands them out as
// [Process.RuntimeAPIListener] and [Process.PlatformAPIListener]: no
// other sandbox and nothing on the host can connect to them, and the
// sandbox reaches nothing of the host's loopback.
//
// Its root is a tmpfs the init builds in the zygote phase and pivots
// into, keeping the host's root at a root-only /.oldroot until the spec's
// bind mounts are in place; then it is detached and the root remounted
// read-only. /tmp is an ext4 image of [Config.ScratchDir] on a loop
// device, its size reserved on disk, so it is storage apart from memory
// ([Spec.TmpSizeMB]; a tmpfs charged to memory without a ScratchDir).
//
// The init runs on one locked OS thread. Before it forks the commands
// that thread takes no_new_privs, drops the capability bounding and
// ambient sets and installs the seccomp filter (privileges_linux.go),
// which the commands inherit; the switch to uid 65534 clears the rest.
// Basic mode isolates nothing; it only keeps sandboxes apart in process
// groups and bounds their memory.
//
// # Concurrency
//
// A Manager is safe for concurrent use. A Process's methods are safe for
// concurrent use; the caller is expected to serialise Freeze and Thaw (one
// invocation at a time), and Kill may be called at any moment, including
// during a Freeze. Lock order, where two are held at once: Manager.mu before
// memWatcher.mu, and Process.freezeMu before Process.sigMu; the zygote
// pool's mutex is never held with another.
//
// The package never logs function output; that is data for internal/fnlog.
package sandbox
