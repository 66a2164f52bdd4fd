package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Ephemeral storage.
//
// On Lambda, /tmp is storage sized by EphemeralStorage (512 to 10,240 MB),
// apart from memory. A tmpfs would charge it to the sandbox's memory
// cgroup, so a scratch file system lives on disk instead: an image file in
// the server's data directory, with its full size reserved up front (so
// that no function can later fill the file system it lives on), formatted
// as ext4 and attached to a loop device. The server creates it
// ([createScratch]) and passes the loop device's descriptor to the
// sandbox init, which mounts it ([mountScratch]) in its own mount
// namespace. The loop device is attached with autoclear: it detaches
// itself when its last user goes (the mount, when the sandbox's mount
// namespace dies, and every open descriptor), and the image's blocks are
// freed once it is detached and the file removed ([scratch.Close]).
//
// The image file stays in the directory while its sandbox lives. On
// Lambda a timeout, a crash or an out-of-memory kill resets the
// environment but /tmp survives into the re-init; here such a sandbox is
// replaced by a new one, so a sandbox started with [Spec.KeepTmp] keeps
// its image when it ends, once the loop device let go of it
// ([waitLoopReleased]), and the next one attaches it again
// ([attachScratch]) instead of formatting a fresh one.

// scratch is one sandbox's disk-backed scratch file system, attached to a
// loop device and not yet mounted.
type scratch struct {
	dev    *os.File // the loop device, open read-write; nil once closed
	loop   string   // the loop device's path (/dev/loopN), kept after close
	image  string   // the backing image file; "" once removed
	sizeMB int
}

// errScratchSpace is wrapped by the error of [createScratch] when the
// directory's file system cannot hold the image.
var errScratchSpace = errors.New("not enough free disk space for ephemeral storage")

// scratchBytesPerInode sets the inode count: one inode per 32 KB keeps the
// inode tables under 1% of the size (256-byte inodes) and still gives a
// 512 MB /tmp 16,384 files and a 10 GB one 327,680.
const scratchBytesPerInode = 32 << 10

// createScratch creates a scratch file system of sizeMB megabytes in a new
// image file in dir and attaches it to a free loop device. The caller
// passes the device (its descriptor, or its path) to [mountScratch] and
// calls Close once the file system is mounted, or when it is not needed.
// It needs root (CAP_SYS_ADMIN for the loop device) and mkfs.ext4 from
// e2fsprogs. The error wraps [errScratchSpace] (and ENOSPC) when dir's
// file system has too little room.
func createScratch(ctx context.Context, dir string, sizeMB int, sparse bool) (*scratch, error) {
	if sizeMB <= 0 {
		return nil, fmt.Errorf("sandbox: ephemeral storage of %d MB", sizeMB)
	}
	mkfs, err := findMkfsExt4()
	if err != nil {
		return nil, err
	}
	img, err := os.CreateTemp(dir, "scratch-*.img") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("sandbox: create ephemeral storage image: %w", err)
	}
	s := &scratch{image: img.Name(), sizeMB: sizeMB}
	fail := func(err error) (*scratch, error) {
		_ = img.Close()
		_ = s.Close()
		return nil, err
	}
	// Formatting a sparse file and reserving the space afterwards takes
	// one pass of fallocate: mke2fs zeroes blocks of a file by punching
	// holes into it (as it would discard blocks, had nodiscard not been
	// given), so space reserved before would have to be reserved again.
	size := int64(sizeMB) << 20
	if err := img.Truncate(size); err != nil {
		return fail(fmt.Errorf("sandbox: size ephemeral storage image: %w", err))
	}
	// No journal (the data does not outlive the sandbox), no room to grow,
	// no blocks kept for root, and the inode tables zeroed now rather than
	// by the kernel after mount, through the loop device, which would punch
	// holes into the image too.
	cmd := exec.CommandContext(ctx, mkfs, "-F", "-q", "-b", "4096", "-m", "0",
		"-O", "^has_journal,^resize_inode", "-i", strconv.Itoa(scratchBytesPerInode),
		"-E", "lazy_itable_init=0,nodiscard,root_owner=0:0", img.Name())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil {
		return fail(fmt.Errorf("sandbox: format ephemeral storage: %w: %s", err, strings.TrimSpace(out.String())))
	}
	if !sparse {
		if err := reserve(img, size); err != nil {
			return fail(err)
		}
	}
	dev, err := attachLoop(img)
	if err != nil {
		return fail(err)
	}
	s.dev, s.loop = dev, dev.Name()
	if err := img.Close(); err != nil { // the loop device holds its own reference
		return fail(fmt.Errorf("sandbox: close ephemeral storage image: %w", err))
	}
	return s, nil
}

// attachScratch attaches the image of a scratch file system that an
// ended sandbox kept to a free loop device, as it is: not formatted
// again, so that a sandbox mounting it finds the files the other left.
// The caller makes sure no other loop device still holds it. On failure
// the image is left where it is.
func attachScratch(image string) (*scratch, error) {
	img, err := os.OpenFile(image, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open kept ephemeral storage: %w", err)
	}
	defer img.Close() // the loop device holds its own reference
	fi, err := img.Stat()
	if err != nil {
		return nil, fmt.Errorf("sandbox: open kept ephemeral storage: %w", err)
	}
	dev, err := attachLoop(img)
	if err != nil {
		return nil, err
	}
	return &scratch{dev: dev, loop: dev.Name(), image: image, sizeMB: int(fi.Size() >> 20)}, nil
}

// reserve allocates size bytes for f on disk.
func reserve(f *os.File, size int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, 0, size)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOSPC):
			var st unix.Statfs_t
			free := "unknown"
			if unix.Fstatfs(int(f.Fd()), &st) == nil {
				free = strconv.FormatUint(st.Bavail*uint64(st.Bsize)>>20, 10)
			}
			return fmt.Errorf("sandbox: reserve %d MB in %s (%s MB free): %w: %w",
				size>>20, filepath.Dir(f.Name()), free, errScratchSpace, err)
		default:
			return fmt.Errorf("sandbox: reserve %d MB in %s: %w", size>>20, filepath.Dir(f.Name()), err)
		}
	}
}

// attachLoop attaches img to a free loop device with autoclear and
// returns the device, open read-write.
func attachLoop(img *os.File) (*os.File, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open loop control: %w", err)
	}
	defer ctl.Close()
	cfg := unix.LoopConfig{
		Fd:   uint32(img.Fd()),
		Size: 4096, // logical block size: the file system's, and aligned for direct I/O
		Info: unix.LoopInfo64{
			// Direct I/O keeps the image's pages out of the page cache,
			// which already holds the file system's.
			Flags: unix.LO_FLAGS_AUTOCLEAR | unix.LO_FLAGS_DIRECT_IO,
		},
	}
	copy(cfg.Info.File_name[:len(cfg.Info.File_name)-1], img.Name())
	// Another allocator may take the device we were offered before we
	// configure it; then we ask again.
	const attempts = 32
	for range attempts {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("sandbox: find a free loop device: %w", err)
		}
		path := "/dev/loop" + strconv.Itoa(n)
		dev, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("sandbox: open %s: %w", path, err)
		}
		err = unix.IoctlLoopConfigure(int(dev.Fd()), &cfg)
		if err == nil {
			return dev, nil
		}
		_ = dev.Close()
		if !errors.Is(err, unix.EBUSY) {
			return nil, fmt.Errorf("sandbox: attach %s to %s: %w", img.Name(), path, err)
		}
	}
	return nil, fmt.Errorf("sandbox: attach %s: loop devices stayed busy after %d attempts", img.Name(), attempts)
}

// Device returns the loop device, open read-write; nil once closed.
func (s *scratch) Device() *os.File { return s.dev }

// DevicePath returns the loop device's path (/dev/loopN), also once the
// device was closed.
func (s *scratch) DevicePath() string { return s.loop }

// ImagePath returns the backing image's path.
func (s *scratch) ImagePath() string { return s.image }

// SizeMB returns the size it was created with.
func (s *scratch) SizeMB() int { return s.sizeMB }

// Close closes the loop device and removes the image file. A mounted file
// system stays usable: the mount keeps the device and the device keeps the
// (removed) image, whose blocks return to the host when the mount goes.
// So the server calls Close as soon as the init has mounted it. Close is
// idempotent.
func (s *scratch) Close() error {
	var errs []error
	if s.dev != nil {
		if err := s.dev.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sandbox: close loop device: %w", err))
		}
		s.dev = nil
	}
	if s.image != "" {
		if err := os.Remove(s.image); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("sandbox: remove ephemeral storage image: %w", err))
		}
		s.image = ""
	}
	return errors.Join(errs...)
}

// closeDevice closes the loop device and leaves the image: the mount
// keeps the device, and the image's owner removes it later. It is
// idempotent.
func (s *scratch) closeDevice() {
	if s.dev != nil {
		_ = s.dev.Close()
		s.dev = nil
	}
}

// loopReleaseWait bounds how long a kept image waits for its loop device
// to detach after its sandbox ended; [waitLoopReleased] polls every
// loopReleasePoll meanwhile.
const (
	loopReleaseWait = 5 * time.Second
	loopReleasePoll = 2 * time.Millisecond
)

// waitLoopReleased waits until the loop device loop (/dev/loopN) no
// longer has image attached, at most timeout. The device detaches itself
// (autoclear) once the last mount and descriptor went, which the kernel
// may finish after the sandbox's processes were reaped; until then the
// image must not be attached again, or two mounts would write one file
// system. It reads sysfs rather than opening the device, since an open
// would hold it.
func waitLoopReleased(loop, image string, timeout time.Duration) error {
	backing := filepath.Join("/sys/block", filepath.Base(loop), "loop", "backing_file")
	deadline := time.Now().Add(timeout)
	for {
		held, err := loopHolds(backing, image)
		if err != nil {
			return err
		}
		if !held {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox: %s still holds %s after %v", loop, image, timeout)
		}
		time.Sleep(loopReleasePoll)
	}
}

// loopHolds reports whether the loop device whose sysfs backing_file is
// backing has image attached. A detached device has no such file; a
// device attached since to another image names another file.
func loopHolds(backing, image string) (bool, error) {
	b, err := os.ReadFile(backing)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sandbox: check loop device: %w", err)
	}
	name := strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)")
	attached, err := os.Stat(name)
	if err != nil {
		return false, nil // removed or renamed: not the kept image
	}
	ours, err := os.Stat(image)
	if err != nil {
		return false, fmt.Errorf("sandbox: kept ephemeral storage: %w", err)
	}
	return os.SameFile(attached, ours), nil
}

// mountScratch mounts the scratch file system on device (/dev/loopN, or
// /proc/self/fd/N of a descriptor received from the server) at target as
// a fresh /tmp: no set-uid binaries or device files, its root world-
// writable and sticky (mode 1777) and without lost+found, which a function
// that empties /tmp could not remove. minixdf makes df report the
// configured size, metadata included, as Lambda's /tmp does. sysRoot is
// where the host's /sys is visible. It needs root.
func mountScratch(device, target, sysRoot string) error {
	if err := unix.Mount(device, target, "ext4", unix.MS_NOSUID|unix.MS_NODEV, "minixdf"); err != nil {
		return fmt.Errorf("sandbox: mount ephemeral storage at %s: %w", target, err)
	}
	if err := os.Remove(filepath.Join(target, "lost+found")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sandbox: prepare ephemeral storage: %w", err)
	}
	if err := os.Chmod(target, 0o777|os.ModeSticky); err != nil {
		return fmt.Errorf("sandbox: prepare ephemeral storage: %w", err)
	}
	return limitReservedClusters(target, sysRoot)
}

// scratchReservedClusters is what a scratch file system keeps back for
// metadata in an emergency (splitting extents of a full file system):
// 64 blocks of 4 KB. ext4 keeps 2% or 16 MB by default, which a function
// would miss from its ephemeral storage.
const scratchReservedClusters = 64

// limitReservedClusters lowers the reservation of the ext4 file system
// mounted at target to scratchReservedClusters, through its sysfs
// directory (under sysRoot, the host's /sys), which is named after the
// device.
func limitReservedClusters(target, sysRoot string) error {
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		return fmt.Errorf("sandbox: prepare ephemeral storage: %w", err)
	}
	dev, err := os.Readlink(fmt.Sprintf("%s/dev/block/%d:%d", sysRoot, unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		return fmt.Errorf("sandbox: find the device of ephemeral storage: %w", err)
	}
	f := filepath.Join(sysRoot, "fs/ext4", filepath.Base(dev), "reserved_clusters")
	b, err := os.ReadFile(f)
	if err != nil {
		return fmt.Errorf("sandbox: read reserved blocks of ephemeral storage: %w", err)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n <= scratchReservedClusters {
		return nil
	}
	if err := os.WriteFile(f, []byte(strconv.Itoa(scratchReservedClusters)), 0); err != nil {
		return fmt.Errorf("sandbox: lower reserved blocks of ephemeral storage: %w", err)
	}
	return nil
}

// findMkfsExt4 finds mkfs.ext4 in PATH or the sbin directories, which a
// server's PATH may lack.
func findMkfsExt4() (string, error) {
	if p, err := exec.LookPath("mkfs.ext4"); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(d, "mkfs.ext4")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("sandbox: ephemeral storage needs mkfs.ext4 (e2fsprogs): %w", exec.ErrNotFound)
}

// TmpImage returns, once [Process.Done] is closed, the image of a
// full-mode sandbox's /tmp kept because of [Spec.KeepTmp]: unmounted,
// detached from its loop device, with the files the sandbox left, for
// [Spec.TmpImage] of the sandbox that replaces it. The caller owns the
// file from then on and removes it (os.Remove) when nothing will use it.
// It is "" before Done, without KeepTmp, in basic mode, with a tmpfs /tmp,
// and when the loop device did not let go in time (the image is removed
// then).
func (p *Process) TmpImage() string {
	select {
	case <-p.done:
		return p.keptTmp
	default:
		return ""
	}
}

// dropTmpImage removes the image of the sandbox's /tmp, if it still has
// one; a mounted file system stays usable.
func (p *Process) dropTmpImage() {
	if p.tmpImage == "" {
		return
	}
	if err := os.Remove(p.tmpImage); err != nil && !errors.Is(err, os.ErrNotExist) {
		p.logger.Warn("sandbox: remove ephemeral storage image", "err", err)
	}
	p.tmpImage = ""
}

// settleTmp runs in the teardown, once every process of the sandbox is
// gone: the image of /tmp is kept for [Process.TmpImage] when asked to
// and its loop device lets go of it in time, and removed otherwise.
func (p *Process) settleTmp() {
	if p.tmpImage == "" {
		return
	}
	if p.keepTmp {
		start := time.Now()
		err := waitLoopReleased(p.tmpLoop, p.tmpImage, loopReleaseWait)
		if err == nil {
			p.logger.Debug("sandbox: kept /tmp", "image", p.tmpImage, "waited", time.Since(start))
			p.keptTmp, p.tmpImage = p.tmpImage, ""
			return
		}
		p.logger.Warn("sandbox: not keeping /tmp", "err", err)
	}
	p.dropTmpImage()
}
