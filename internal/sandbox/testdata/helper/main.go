// Command helper is the test program run inside sandboxes by the sandbox
// package's tests. Its first argument selects a behaviour.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: helper mode [args]")
		os.Exit(64)
	}
	switch os.Args[1] {
	case "report":
		report(os.Args[2:])
	case "cpus":
		// Go sizes GOMAXPROCS from the affinity mask it starts with.
		fmt.Printf("cpus=%d gomaxprocs=%d\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	case "sched":
		policy, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
		if errno != 0 {
			fmt.Println("policy=error", errno)
			return
		}
		fmt.Printf("policy=%d\n", policy)
	case "count":
		for i := 0; ; i++ {
			fmt.Println(i)
			time.Sleep(2 * time.Millisecond)
		}
	case "alloc":
		alloc(atoi(os.Args[2]))
	case "hold":
		hold(atoi(os.Args[2]))
	case "exit":
		os.Exit(atoi(os.Args[2]))
	case "exit-after":
		d, _ := time.ParseDuration(os.Args[2])
		time.Sleep(d)
		os.Exit(0)
	case "kill-self":
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(10 * time.Second)
	case "trap":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		fmt.Println("ready")
		<-c
		fmt.Println("got SIGTERM")
		os.Exit(3)
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		sleepForever()
	case "sleep":
		sleepForever()
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(64)
	}
}

// sleepForever blocks without tripping the runtime's deadlock detector.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// report prints facts about its environment as key=value lines, including
// the contents of readFiles.
func report(readFiles []string) {
	wd, _ := os.Getwd()
	host, _ := os.Hostname()
	fmt.Printf("uid=%d\ngid=%d\npid=%d\ncwd=%s\nhostname=%s\ntmp=%s\n", os.Getuid(), os.Getgid(), os.Getpid(), wd, host, os.TempDir())
	init, _ := os.ReadFile("/proc/1/cmdline")
	fmt.Printf("init=%s\n", bytes.TrimRight(init, "\x00"))
	for _, kv := range os.Environ() {
		fmt.Printf("env:%s\n", kv)
	}
	for _, f := range readFiles {
		if b, err := os.ReadFile(f); err != nil {
			fmt.Printf("read:%s=error %v\n", f, err)
		} else {
			fmt.Printf("read:%s=%s\n", f, b)
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(os.TempDir(), &st); err == nil {
		fmt.Printf("tmp_mb=%d\n", st.Blocks*uint64(st.Bsize)>>20)
	}
	fmt.Printf("write_task=%s\n", tryWrite(filepath.Join(wd, "written")))
	fmt.Printf("write_tmp=%s\n", tryWrite(filepath.Join(os.TempDir(), "written")))
}

func tryWrite(path string) string {
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		return "error"
	}
	return "ok"
}

// hold allocates and touches mb, says "held" and keeps it until killed.
func hold(mb int) {
	b := make([]byte, mb<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	fmt.Println("held")
	sleepForever()
	runtime.KeepAlive(b)
}

// alloc allocates and touches stepMB every 10 ms until it is killed.
func alloc(stepMB int) {
	var keep [][]byte
	for total := stepMB; ; total += stepMB {
		b := make([]byte, stepMB<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
		fmt.Printf("allocated %d MB\n", total)
		time.Sleep(10 * time.Millisecond)
	}
}
