// Package smallfs mounts small tmpfs filesystems for tests that need a disk
// to fill up: the journal's write-retry tests and the engine's disk-full
// run. Mounting needs root (CI runs as root); elsewhere the tests that use
// it are skipped with the reason. Tests only: the layout test forbids
// importing it from non-test code.
package smallfs

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size bytes on a new temporary directory and
// unmounts it when the test ends. Without root the test is skipped; as
// root a failure to mount fails it.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := run("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0755", size), "tmpfs", dir); err != nil {
		t.Fatalf("smallfs: %v", err)
	}
	t.Cleanup(func() {
		if err := run("umount", "-l", dir); err != nil {
			t.Errorf("smallfs: %v", err)
		}
	})
	return dir
}

// Resize changes the size of the tmpfs mounted on dir (more room, or less).
func Resize(t testing.TB, dir string, size int64) {
	t.Helper()
	if err := run("mount", "-o", fmt.Sprintf("remount,size=%d", size), dir); err != nil {
		t.Fatalf("smallfs: %v", err)
	}
}

// Free returns the bytes free on dir's filesystem.
func Free(t testing.TB, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatalf("smallfs: statfs %s: %v", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
