//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The minimal root of a full-mode sandbox, laid out like Lambda's: the
// host's /usr and library directories read-only (what interpreters and
// dynamically linked bootstraps need), a small /etc written for the
// sandbox, a minimal /dev, a /proc of the sandbox's pid namespace, and the
// mount points /var/task, /opt, /var/runtime and /tmp that the spec fills.
// Nothing else of the host is there: no /home, /root, /srv, /run,
// /var/tmp, no data dir, no writable host path.

// sandboxRootMount is the host directory an init mounts its new root's
// tmpfs on, in its own mount namespace (so the host never sees the mount).
// It only has to exist; every init shares it.
var sandboxRootMount = filepath.Join(os.TempDir(), ".updraft-sandbox-root")

// oldRootDir is where the host's root stays, root-only, between
// pivot_root in the zygote phase and the spec's bind mounts, which come
// from it; it is detached before any command starts.
const oldRootDir = "/.oldroot"

// hostDirs are bound read-only when they are directories on the host and
// recreated as the same symlinks when they are symlinks (merged /usr).
var hostDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"}

// hostEtc are bound read-only into /etc when the host has them: the
// dynamic linker's cache, CA certificates, time zone, protocol tables.
var hostEtc = []string{
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates", "pki",
	"crypto-policies", "localtime", "services", "protocols", "mime.types", "gai.conf",
	"host.conf", "alternatives", "os-release",
}

// devNodes are bound from the host's /dev.
var devNodes = []string{"null", "zero", "full", "random", "urandom"}

// sandboxPasswd and sandboxGroup name the sandbox user, as Lambda's
// sbx_user1051, with the uid and gid the commands run as.
var (
	sandboxPasswd = fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:%d:%d::/tmp:/sbin/nologin\n", UnprivilegedID, UnprivilegedID)
	sandboxGroup  = fmt.Sprintf("root:x:0:\nsbx_user1051:x:%d:\n", UnprivilegedID)
)

// buildRoot builds the minimal root on a fresh tmpfs and pivots into it,
// keeping the host's root at oldRootDir. It runs in the zygote phase, in
// the init's own mount namespace (mount propagation to the host already
// cut).
func buildRoot(resolvConf string, tmpDevice int) error {
	if err := os.MkdirAll(sandboxRootMount, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", sandboxRootMount, err)
	}
	root := sandboxRootMount
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m,nr_inodes=4096,mode=755"); err != nil {
		return fmt.Errorf("mount root tmpfs: %w", err)
	}
	at := func(p string) string { return filepath.Join(root, p) }
	for _, d := range []string{"etc", "dev", "proc", "tmp", "opt", "var/task", "var/runtime"} {
		if err := os.MkdirAll(at(d), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := os.Mkdir(at(oldRootDir), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", oldRootDir, err)
	}
	for _, d := range hostDirs {
		if err := mirrorHostPath(d, at(d)); err != nil {
			return err
		}
	}
	etc := map[string]string{
		"passwd":        sandboxPasswd,
		"group":         sandboxGroup,
		"hosts":         "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
		"hostname":      "localhost\n",
		"resolv.conf":   resolvConf,
		"nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\nservices: files\nprotocols: files\n",
	}
	for name, content := range etc {
		if err := os.WriteFile(at("etc/"+name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write /etc/%s: %w", name, err)
		}
	}
	for _, name := range hostEtc {
		if err := mirrorHostPath("/etc/"+name, at("etc/"+name)); err != nil {
			return err
		}
	}
	if err := buildDev(at("dev")); err != nil {
		return err
	}
	if tmpDevice >= 0 {
		// The host's /proc and /sys are still where they were.
		err := mountScratch("/proc/self/fd/"+strconv.Itoa(tmpDevice), at("tmp"), "/sys")
		_ = unix.Close(tmpDevice)
		if err != nil {
			return err
		}
	}
	if err := unix.Mount("proc", at("proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := unix.PivotRoot(root, at(oldRootDir)); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir to the new root: %w", err)
	}
	return nil
}

// mirrorHostPath makes dst what host path src is: the same symlink, or a
// read-only bind of a file or directory; nothing when src is missing.
func mirrorHostPath(src, dst string) error {
	fi, err := os.Lstat(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return fmt.Errorf("read link %s: %w", src, err)
		}
		if err := os.Symlink(target, dst); err != nil {
			return fmt.Errorf("link %s: %w", dst, err)
		}
		return nil
	}
	if !fi.IsDir() {
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("create mount point %s: %w", dst, err)
		}
		_ = f.Close()
	}
	return bindReadOnly(src, dst)
}

// buildDev fills dev (a directory of the new root) with a tmpfs holding the
// device nodes every program expects, the usual symlinks and a private
// /dev/shm.
func buildDev(dev string) error {
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "size=64k,nr_inodes=64,mode=755"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, n := range devNodes {
		dst := filepath.Join(dev, n)
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return fmt.Errorf("create /dev/%s: %w", n, err)
		}
		_ = f.Close()
		// A bind keeps the node usable although this tmpfs is not nodev;
		// read-only is not wanted: /dev/null must take writes.
		if err := unix.Mount("/dev/"+n, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", n, err)
		}
	}
	links := map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return fmt.Errorf("link /dev/%s: %w", name, err)
		}
	}
	shm := filepath.Join(dev, "shm")
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return fmt.Errorf("create /dev/shm: %w", err)
	}
	// Lambda has no usable /dev/shm; a small private one keeps programs
	// that expect it working without a channel between sandboxes.
	if err := unix.Mount("tmpfs", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64m,mode=1777"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	return nil
}

// hostPath is where a host path appears between pivot_root and
// detachHostRoot.
func hostPath(p string) string {
	if strings.HasPrefix(p, oldRootDir+"/") {
		return p
	}
	return oldRootDir + p
}

// detachHostRoot drops the host's root from the sandbox's view for good and
// makes the new root read-only; the spec's mounts are in place by then.
func detachHostRoot() error {
	if err := unix.Unmount(oldRootDir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's root: %w", err)
	}
	if err := unix.Rmdir(oldRootDir); err != nil {
		return fmt.Errorf("remove %s: %w", oldRootDir, err)
	}
	flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("make the root read-only: %w", err)
	}
	return nil
}
