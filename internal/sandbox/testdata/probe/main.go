// Command probe reports, as key=value lines, what a process may do; the
// sandbox package's tests run it under the restrictions of
// lockDownForkingThread. Its first argument selects the report.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe status|refused|work")
		os.Exit(64)
	}
	switch os.Args[1] {
	case "status":
		status()
	case "refused":
		refused()
	case "work":
		if err := work(); err != nil {
			fmt.Println("work=" + err.Error())
			os.Exit(1)
		}
		fmt.Println("work=ok")
	default:
		fmt.Fprintln(os.Stderr, "unknown report", os.Args[1])
		os.Exit(64)
	}
}

// status prints the privilege lines of /proc/self/status.
func status() {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fmt.Println("error=" + err.Error())
		os.Exit(1)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, _ := strings.Cut(s.Text(), ":")
		switch k {
		case "Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb":
			fmt.Printf("%s=%s\n", k, strings.Join(strings.Fields(v), ","))
		}
	}
}

// refused tries calls the filter refuses and prints each one's errno
// name, or "ok" when it succeeded.
func refused() {
	report := func(name string, errno syscall.Errno) {
		if errno == 0 {
			fmt.Printf("%s=ok\n", name)
			return
		}
		fmt.Printf("%s=%s\n", name, unix.ErrnoName(errno))
	}
	errnoOf := func(err error) syscall.Errno {
		var e syscall.Errno
		if errors.As(err, &e) {
			return e
		}
		return 0
	}
	report("mount", errnoOf(unix.Mount("tmpfs", "/tmp", "tmpfs", 0, "")))
	report("unshare_net", errnoOf(unix.Unshare(unix.CLONE_NEWNET)))
	report("unshare_user_net", errnoOf(unix.Unshare(unix.CLONE_NEWUSER|unix.CLONE_NEWNET)))
	report("setns", errnoOf(unix.Setns(-1, 0)))
	report("clone_newuser", rawClone(unix.CLONE_NEWUSER|uintptr(unix.SIGCHLD)))
	report("clone_newnet", rawClone(unix.CLONE_NEWNET|uintptr(unix.SIGCHLD)))
	_, _, e := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	report("clone3", e)
	_, _, e = unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
	report("ptrace", e)
	var b [8]byte
	local := []unix.Iovec{{Base: &b[0], Len: 8}}
	remote := []unix.RemoteIovec{{Base: uintptr(unsafe.Pointer(&b[0])), Len: 8}}
	_, err := unix.ProcessVMReadv(os.Getpid(), local, remote, 0)
	report("process_vm_readv", errnoOf(err))
	_, _, e = unix.RawSyscall(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, sessionKeyring, 0)
	report("keyctl", e)
	_, _, e = unix.RawSyscall(unix.SYS_IO_URING_SETUP, 1, 0, 0)
	report("io_uring_setup", e)
	_, _, e = unix.RawSyscall(unix.SYS_BPF, 0, 0, 0)
	report("bpf", e)
	_, _, e = unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	report("personality_query", e)
	_, _, e = unix.RawSyscall(unix.SYS_PERSONALITY, addrNoRandomize, 0, 0)
	report("personality_no_randomize", e)
}

// sessionKeyring is KEY_SPEC_SESSION_KEYRING (-3) as a system call argument.
var sessionKeyring = ^uintptr(2)

// addrNoRandomize is the personality flag that turns ASLR off.
const addrNoRandomize = 0x0040000

// rawClone forks with flags; a child that comes to be exits at once.
//
//go:nosplit
func rawClone(flags uintptr) syscall.Errno {
	pid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, flags, 0, 0, 0, 0, 0)
	if e == 0 && pid == 0 {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	if e == 0 {
		var ws syscall.WaitStatus
		syscall.Wait4(int(pid), &ws, unix.WALL, nil)
	}
	return e
}

// work does what every runtime does: threads, a child process, sockets on
// loopback.
func work() error {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			runtime.LockOSThread() // a thread of its own, dropped at the end
		})
	}
	wg.Wait()
	if out, err := exec.Command("/bin/sh", "-c", "echo child").Output(); err != nil || string(out) != "child\n" {
		return fmt.Errorf("sh: %q %v", out, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		return fmt.Errorf("echo: %q %v", buf, err)
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer u.Close()
	if _, err := u.WriteTo([]byte("x"), u.LocalAddr()); err != nil {
		return err
	}
	if _, _, err := u.ReadFrom(buf); err != nil {
		return err
	}
	return nil
}
