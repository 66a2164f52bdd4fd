package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// skipUnlessScratch skips tests that need root and mkfs.ext4.
func skipUnlessScratch(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("ephemeral storage needs root for loop devices and mounts")
	}
	if _, err := findMkfsExt4(); err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip(err)
	}
}

// scratchEnv tells TestScratchHelperProcess the mount point to use.
const scratchEnv = "UPDRAFT_TEST_SCRATCH_TARGET"

// TestScratchHelperProcess is not a test: TestScratch runs the test
// binary again with only this test, so that a process other than the one
// that created the scratch file system receives its loop device over a
// unix socket (fd 3) and mounts it through /proc/self/fd/N, as the sandbox
// init does. It mounts it in a mount namespace of its own thread, reports
// what it finds as key=value lines and unmounts it by ending the thread.
func TestScratchHelperProcess(t *testing.T) {
	target := os.Getenv(scratchEnv)
	if target == "" {
		t.Skip("helper process of TestScratch")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread, and with it its mount namespace and
		// the mount, goes with the goroutine.
		runtime.LockOSThread()
		if err := scratchHelper(target); err != nil {
			fmt.Printf("error=%v\n", err)
		}
	}()
	<-done
}

func scratchHelper(target string) error {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(3, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(cmsgs) != 1 {
		return fmt.Errorf("control message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&cmsgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("rights: %v", err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := mountScratch("/proc/self/fd/"+strconv.Itoa(fds[0]), target, "/sys"); err != nil {
		return err
	}
	_ = unix.Close(fds[0]) // the mount holds the device now
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return err
	}
	fmt.Printf("size=%d\n", st.Blocks*uint64(st.Bsize))
	fmt.Printf("avail=%d\n", st.Bavail*uint64(st.Bsize))
	fmt.Printf("files=%d\n", st.Files)
	var root unix.Stat_t
	if err := unix.Stat(target, &root); err != nil {
		return err
	}
	fmt.Printf("mode=%o\n", root.Mode&0o7777)
	entries, _ := os.ReadDir(target)
	fmt.Printf("entries=%d\n", len(entries))
	var m unix.Statfs_t
	_ = unix.Statfs(target, &m)
	fmt.Printf("nosuid=%t\n", m.Flags&unix.ST_NOSUID != 0)
	fmt.Printf("nodev=%t\n", m.Flags&unix.ST_NODEV != 0)

	// Fill it: the configured size less 1 MB fits, the rest does not.
	fill := func(name string, mb int) (int, error) {
		f, err := os.Create(filepath.Join(target, name))
		if err != nil {
			return 0, err
		}
		defer f.Close()
		chunk := make([]byte, 1<<20)
		for i := range mb {
			if _, err := f.Write(chunk); err != nil {
				return i, err
			}
		}
		return mb, f.Sync()
	}
	sizeMB := int(st.Blocks * uint64(st.Bsize) >> 20)
	n, err := fill("fits", sizeMB-1)
	fmt.Printf("fits_mb=%d\nfits_err=%v\n", n, errName(err))
	n, err = fill("overflows", sizeMB)
	fmt.Printf("overflow_mb=%d\noverflow_err=%v\n", n, errName(err))
	return nil
}

// errName names an errno error, or prints the error.
func errName(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e)
	}
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestScratch creates a 64 MB scratch file system, hands its loop device
// to another process that mounts it as the sandbox init would, checks what
// that process sees and that everything is released afterwards.
func TestScratch(t *testing.T) {
	skipUnlessScratch(t)
	const sizeMB = 64
	s, err := createScratch(t.Context(), t.TempDir(), sizeMB, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	fi, err := os.Stat(s.ImagePath())
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o600 || st.Uid != 0 {
		t.Errorf("image mode %v owner %d, want 0600 and root", fi.Mode(), st.Uid)
	}
	if got := st.Blocks * 512; got < sizeMB<<20 {
		t.Errorf("image has %d bytes allocated, want the full %d reserved", got, sizeMB<<20)
	}
	loopName := filepath.Base(s.DevicePath())
	backing := filepath.Join("/sys/block", loopName, "loop/backing_file")
	if b, err := os.ReadFile(backing); err != nil || strings.TrimSpace(string(b)) != s.ImagePath() {
		t.Errorf("%s: %q %v, want %s", backing, b, err, s.ImagePath())
	}

	// Hand the device over and let go of it, as the server does once the
	// init holds it.
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "ours"), os.NewFile(uintptr(pair[1]), "theirs")
	defer ours.Close()
	if err := unix.Sendmsg(pair[0], []byte{0}, unix.UnixRights(int(s.Device().Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	image := s.ImagePath()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestScratchHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), scratchEnv+"="+target)
	cmd.ExtraFiles = []*os.File{theirs}
	out, err := cmd.CombinedOutput()
	theirs.Close()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	got := keyValues(string(out))
	if got["error"] != "" {
		t.Fatalf("helper process: %s\n%s", got["error"], out)
	}

	t.Run("df reports the configured size", func(t *testing.T) {
		size, _ := strconv.ParseInt(got["size"], 10, 64)
		if d := size - sizeMB<<20; d < -sizeMB<<20/100 || d > sizeMB<<20/100 {
			t.Errorf("size %d bytes, want %d within 1%%", size, sizeMB<<20)
		}
		t.Logf("size %s, available %s, inodes %s", got["size"], got["avail"], got["files"])
	})
	t.Run("the root is a world-writable sticky directory with nothing in it", func(t *testing.T) {
		if got["mode"] != "1777" || got["entries"] != "0" {
			t.Errorf("mode %s with %s entries, want 1777 and empty", got["mode"], got["entries"])
		}
		if got["nosuid"] != "true" || got["nodev"] != "true" {
			t.Errorf("nosuid %s nodev %s, want both", got["nosuid"], got["nodev"])
		}
	})
	t.Run("the size less 1 MB fits and no more", func(t *testing.T) {
		if got["fits_err"] != "nil" || got["fits_mb"] != strconv.Itoa(sizeMB-1) {
			t.Errorf("writing %d MB: wrote %s MB, %s", sizeMB-1, got["fits_mb"], got["fits_err"])
		}
		if got["overflow_err"] != "ENOSPC" {
			t.Errorf("writing past the end: wrote %s MB, %s, want ENOSPC", got["overflow_mb"], got["overflow_err"])
		}
	})
	t.Run("the loop device and the image are released", func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := os.Stat(backing)
			if errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still attached: %v", loopName, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := os.Stat(image); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("image %s: %v, want removed", image, err)
		}
	})
}

// TestScratchWithoutSpace fails cleanly when the directory's file system
// cannot hold the image, and leaves nothing behind.
func TestScratchWithoutSpace(t *testing.T) {
	skipUnlessScratch(t)
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=16m"); err != nil {
		t.Skip("mount a small tmpfs:", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	_, err := createScratch(t.Context(), dir, 64, false)
	if !errors.Is(err, errScratchSpace) || !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("createScratch: %v, want errScratchSpace and ENOSPC", err)
	}
	t.Log(err)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left in %s", len(entries), dir)
	}
}

// BenchmarkScratch measures creating (reserve, format, attach) and
// mounting scratch file systems of Lambda's smallest and largest
// ephemeral storage. It mounts on a temporary directory of the host. A
// size is skipped, saying why, when reserving it would take more than
// half of the directory's free space: the other packages' tests share
// it (a tmpfs /tmp on many machines), and a full file system fails them.
func BenchmarkScratch(b *testing.B) {
	skipUnlessScratch(b)
	for _, sizeMB := range []int{512, 10240} {
		b.Run(fmt.Sprintf("%dMB", sizeMB), func(b *testing.B) {
			dir := b.TempDir()
			var st unix.Statfs_t
			if err := unix.Statfs(dir, &st); err != nil {
				b.Fatalf("statfs %s: %v", dir, err)
			}
			if freeMB := int64(st.Bavail) * st.Bsize >> 20; freeMB < 2*int64(sizeMB) {
				b.Skipf("%s has %d MB free; reserving %d MB needs twice that", dir, freeMB, sizeMB)
			}
			target := b.TempDir()
			var create, mount time.Duration
			for b.Loop() {
				t0 := time.Now()
				s, err := createScratch(b.Context(), dir, sizeMB, false)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := mountScratch(s.DevicePath(), target, "/sys"); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				create += t1.Sub(t0)
				mount += t2.Sub(t1)
				if err := unix.Unmount(target, 0); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(create.Microseconds())/float64(b.N)/1000, "create-ms/op")
			b.ReportMetric(float64(mount.Microseconds())/float64(b.N)/1000, "mount-ms/op")
		})
	}
}

// TestKeptTmpCarriesOver starts a sandbox that keeps its /tmp, then one on
// the kept image, from every kind of init: the second finds the first's
// file, and the image goes with the second, which does not keep it.
func TestKeptTmpCarriesOver(t *testing.T) {
	skipUnlessScratch(t)
	tests := []struct {
		name    string
		zygotes int
		sizeMB  int
	}{
		{"a pre-started init with its own /tmp", 1, 0},
		{"a pre-started init and a /tmp of another size", 1, 64},
		{"an init started on demand", -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := newManagerConfig(t, LevelFull, Config{Zygotes: tc.zygotes, ScratchDir: dir})
			if tc.zygotes > 0 {
				waitReady(t, m, tc.zygotes)
			}
			s, out := newSpec(t, m, "report")
			s.TmpSizeMB = tc.sizeMB
			s.KeepTmp = true
			p := start(t, m, s)
			if p.TmpImage() != "" {
				t.Errorf("TmpImage before Done = %q, want empty", p.TmpImage())
			}
			waitDone(t, p, 10*time.Second)
			if r := report(out.String()); r["write_tmp"] != "ok" {
				t.Fatalf("first sandbox could not write /tmp:\n%s", out)
			}
			img := p.TmpImage()
			if img == "" || filepath.Dir(img) != dir {
				t.Fatalf("TmpImage = %q, want an image in %s", img, dir)
			}
			if _, err := os.Stat(img); err != nil {
				t.Fatalf("kept image: %v", err)
			}

			if tc.zygotes > 0 {
				waitReady(t, m, tc.zygotes)
			}
			s2, out2 := newSpec(t, m, "report", "/tmp/written")
			s2.TmpSizeMB = tc.sizeMB
			s2.TmpImage = img
			p2 := start(t, m, s2)
			waitDone(t, p2, 10*time.Second)
			r := report(out2.String())
			if got := r["read:/tmp/written"]; got != "x" {
				t.Errorf("second sandbox read %q from /tmp/written, want the first's \"x\"\n%s", got, out2)
			}
			wantMB := tc.sizeMB
			if wantMB == 0 {
				wantMB = DefaultTmpSizeMB
			}
			if r["tmp_mb"] != strconv.Itoa(wantMB) {
				t.Errorf("tmp_mb = %s, want %d", r["tmp_mb"], wantMB)
			}
			if p2.TmpImage() != "" {
				t.Errorf("TmpImage without KeepTmp = %q, want empty", p2.TmpImage())
			}
			if _, err := os.Stat(img); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("image %s after a sandbox that did not keep it: %v, want removed", img, err)
			}
		})
	}
}

// TestLoopHolds tells the loop device that holds an image from one that
// is detached or holds another.
func TestLoopHolds(t *testing.T) {
	dir := t.TempDir()
	ours := filepath.Join(dir, "scratch-1.img")
	other := filepath.Join(dir, "scratch-2.img")
	for _, f := range []string{ours, other} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	backing := func(content string) string {
		f := filepath.Join(t.TempDir(), "backing_file")
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		name    string
		backing string
		want    bool
	}{
		{"a device holding the image", backing(ours + "\n"), true},
		{"a detached device", filepath.Join(dir, "missing"), false},
		{"a device holding another image", backing(other + "\n"), false},
		{"a device holding a removed file", backing(filepath.Join(dir, "gone.img") + " (deleted)\n"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loopHolds(tc.backing, ours)
			if err != nil || got != tc.want {
				t.Errorf("loopHolds = %t, %v, want %t", got, err, tc.want)
			}
		})
	}
}

// TestStartOnAnUnusableTmpImage fails Start when the kept image holds no
// file system, and leaves the image to the caller.
func TestStartOnAnUnusableTmpImage(t *testing.T) {
	skipUnlessScratch(t)
	dir := t.TempDir()
	m := newManagerConfig(t, LevelFull, Config{Zygotes: -1, ScratchDir: dir})
	img := filepath.Join(dir, "scratch-garbage.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := newSpec(t, m, "report")
	s.TmpImage = img
	if p, err := m.Start(t.Context(), s); err == nil {
		_ = p.Kill()
		waitDone(t, p, 10*time.Second)
		t.Fatal("Start on an image without a file system succeeded")
	}
	if _, err := os.Stat(img); err != nil {
		t.Errorf("the image after a failed Start: %v, want it left to the caller", err)
	}
}
