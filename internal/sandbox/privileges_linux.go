package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// lockDownForkingThread takes from the calling OS thread, and so from
// every process it forks afterwards, what a function never needs:
//
//   - no_new_privs, so set-uid binaries and file capabilities grant
//     nothing and the seccomp filter may be installed without
//     CAP_SYS_ADMIN;
//   - every capability in the bounding set and the ambient set. The
//     effective and permitted sets stay: the forked child needs
//     CAP_SETUID and CAP_SETGID to switch to the function's uid before
//     exec. That switch from uid 0 clears them, and the empty bounding
//     set keeps any exec from bringing them back;
//   - the system calls of [commandFilter], refused by a seccomp filter.
//
// All three are per-thread and inherited across fork and exec, so the
// caller runs it on a goroutine locked to its thread
// (runtime.LockOSThread) right before it forks the commands with
// syscall.ForkExec from that same goroutine, and never unlocks it: the
// goroutine must end locked, which makes the Go runtime discard the
// thread instead of reusing it for other goroutines. It must not run on
// the main thread (a locked main goroutine that ends exits the process).
// The filter refuses clone3, so ForkExec on that thread must not ask for
// SysProcAttr.UseCgroupFD (the only case in which Go uses clone3).
func lockDownForkingThread() error {
	prog, err := commandFilter()
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("sandbox: set no_new_privs: %w", err)
	}
	if err := dropBoundingCapabilities(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("sandbox: clear ambient capabilities: %w", err)
	}
	return installFilter(prog)
}

// dropBoundingCapabilities empties the calling thread's capability
// bounding set. It needs CAP_SETPCAP.
func dropBoundingCapabilities() error {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return fmt.Errorf("sandbox: read last capability: %w", err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("sandbox: parse last capability %q: %w", b, err)
	}
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("sandbox: drop capability %d from the bounding set: %w", c, err)
		}
	}
	return nil
}

// installFilter loads prog as the calling thread's seccomp filter. Without
// SECCOMP_FILTER_FLAG_TSYNC it binds this thread alone, which is what lets
// the sandbox init keep using the calls it refuses its commands.
func installFilter(prog []bpf.RawInstruction) error {
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return fmt.Errorf("sandbox: install seccomp filter: %w", errno)
	}
	return nil
}

// namespaceCloneFlags are the clone flags that create namespaces: a
// function creates none (a user namespace especially would hand it a
// root-like view of large parts of the kernel). CLONE_NEWTIME (0x80) is
// missing on purpose: in clone's flags that bit belongs to the exit
// signal, and clone3 and unshare, which can ask for it, are refused whole.
// It is the mask of Docker's clone rule.
const namespaceCloneFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

// refusedCalls are the system calls a function never needs, refused with
// EPERM. The list follows Docker's default seccomp profile
// (github.com/moby/profiles/seccomp, default.json): what it refuses to a
// container without added capabilities, save the NUMA memory-policy calls
// (harmless, and probed by numeric libraries), plus the ptrace family,
// which Docker allows on kernels from 4.8. Most of them already fail for
// uid 65534 without capabilities; the filter keeps their kernel code out
// of reach, so that a bug in it is not a way out. The adjtimex family is
// refused even for reading the clock state, which only NTP tools do.
var refusedCalls = []string{
	// File systems and mounts.
	"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fsconfig",
	"fspick", "move_mount", "open_tree", "mount_setattr", "quotactl", "quotactl_fd",
	"open_by_handle_at", "name_to_handle_at", "swapon", "swapoff", "nfsservctl",
	"ustat", "sysfs", "_sysctl", "uselib", "lookup_dcookie", "fanotify_init",
	// Namespaces.
	"unshare", "setns",
	// Other processes' memory.
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
	"kcmp", "pidfd_getfd",
	// The kernel itself.
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "reboot", "acct", "syslog", "vhangup", "bpf",
	"perf_event_open", "userfaultfd", "iopl", "ioperm",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"lsm_set_self_attr",
	// Keyrings (not namespaced).
	"keyctl", "add_key", "request_key",
	// Clocks and host names.
	"clock_settime", "clock_adjtime", "settimeofday", "adjtimex",
	"sethostname", "setdomainname",
}

// safePersonalities are the personality(2) values Docker allows: Linux,
// PER_LINUX32, UNAME26 and their combination, and 0xffffffff, which only
// queries. Flags such as ADDR_NO_RANDOMIZE or READ_IMPLIES_EXEC weaken
// exploit mitigations and are refused.
var safePersonalities = []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}

// commandFilter assembles the seccomp filter of [lockDownForkingThread]:
// it allows everything but [refusedCalls], personality(2) outside
// [safePersonalities] and clone(2) with [namespaceCloneFlags], which get
// EPERM, and clone3, which gets ENOSYS as in Docker: clone3's flags live
// in memory a filter cannot read, and glibc then falls back to clone,
// whose flags it can. System calls of a foreign architecture (i386 by
// int 0x80 on x86_64) kill the process, since the list only names native
// ones; the x32 ABI gets ENOSYS.
func commandFilter() ([]bpf.RawInstruction, error) {
	info, err := arch.GetInfo("")
	if err != nil {
		return nil, fmt.Errorf("sandbox: seccomp filter: %w", err)
	}
	cloneFlagsArg := uint32(0)
	if runtime.GOARCH == "s390x" {
		cloneFlagsArg = 1 // s390 swaps clone's first two arguments
	}
	notSafe := make(seccomp.ArgumentConditions, len(safePersonalities))
	for i, v := range safePersonalities {
		notSafe[i] = seccomp.Condition{Argument: 0, Operation: seccomp.NotEqual, Value: v}
	}
	policy := seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{
			{
				Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS),
				Names:  []string{"clone3"},
			},
			{
				Action: seccomp.ActionErrno | seccomp.Action(unix.EPERM),
				Names:  presentCalls(info, refusedCalls),
				NamesWithCondtions: []seccomp.NameWithConditions{
					{Name: "clone", Conditions: seccomp.ArgumentConditions{
						{Argument: cloneFlagsArg, Operation: seccomp.BitsSet, Value: namespaceCloneFlags},
					}},
					{Name: "personality", Conditions: notSafe},
				},
			},
		},
	}
	body, err := policy.Assemble()
	if err != nil {
		return nil, fmt.Errorf("sandbox: seccomp filter: %w", err)
	}
	// The library sends a foreign architecture to the default action,
	// which here is allow; check the architecture first.
	prog := append([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(info.ID), SkipTrue: 1},
		bpf.RetConstant{Val: uint32(seccomp.ActionKillProcess)},
	}, body...)
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("sandbox: seccomp filter: %w", err)
	}
	if len(raw) > unix.BPF_MAXINSNS {
		return nil, errors.New("sandbox: seccomp filter too long")
	}
	return raw, nil
}

// presentCalls returns the names the architecture has; each architecture
// lacks a few (arm64 has no ioperm, no _sysctl).
func presentCalls(info *arch.Info, names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := info.SyscallNames[n]; ok {
			out = append(out, n)
		}
	}
	return out
}
