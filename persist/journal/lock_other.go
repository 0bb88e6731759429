//go:build !unix

package journal

import "os"

// lockDir is a no-op where flock is not available: the single-writer rule
// is then the caller's alone.
func lockDir(dir string) (*os.File, error) { return nil, nil }

func unlockDir(f *os.File) {}

// Locked cannot tell without flock: it reports false.
func Locked(dir string) (bool, error) { return false, nil }
