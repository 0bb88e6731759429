package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Sentinel errors, wrapped by the errors of Open and ReadAll.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
	ErrOutsideDir = errors.New("outside the allowed directory")
)

// Options bound what Open and ReadAll accept.
type Options struct {
	// MaxBytes is the largest file accepted, in bytes; 0 means no size
	// limit (Open) — ReadAll requires a limit and refuses 0.
	MaxBytes int64
	// Dir, when set, confines names to that directory: a relative name is
	// resolved under Dir, an absolute one must lie under it, and no name
	// may leave it through .. or a symbolic link (symbolic links inside
	// Dir must be relative). "" = no confinement.
	Dir string
	// What names the file in errors ("model file", "input"); "" = "file".
	What string
}

// Validate names the bad field.
func (o Options) Validate() error {
	if o.MaxBytes < 0 {
		return fmt.Errorf("MaxBytes: %d is negative", o.MaxBytes)
	}
	return nil
}

func (o Options) what() string {
	if o.What == "" {
		return "file"
	}
	return o.What
}

// Open opens name for reading after checking, from a Stat before the open,
// that it is a regular file within the limits; the open is non-blocking
// and the opened file is checked again (same file, still regular). The
// caller closes the file; fi is its FileInfo.
func Open(name string, o Options) (f *os.File, fi fs.FileInfo, err error) {
	if err := o.Validate(); err != nil {
		return nil, nil, fmt.Errorf("inputfile: %w", err)
	}
	stat, open := os.Stat, func(n string) (*os.File, error) {
		return os.OpenFile(n, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	}
	rel := name
	if o.Dir != "" {
		if rel, err = within(o.Dir, name); err == nil {
			err = resolvesWithin(o.Dir, rel)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", o.what(), name, err)
		}
		root, err := os.OpenRoot(o.Dir)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: directory: %w", o.what(), name, err)
		}
		defer root.Close()
		stat, open = root.Stat, func(n string) (*os.File, error) {
			return root.OpenFile(n, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		}
	}
	before, err := stat(rel)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", o.what(), name, err)
	}
	if err := o.check(name, before); err != nil {
		return nil, nil, err
	}
	if f, err = open(rel); err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", o.what(), name, err)
	}
	if fi, err = f.Stat(); err == nil {
		if err = o.check(name, fi); err == nil && !os.SameFile(before, fi) {
			err = fmt.Errorf("%s %s: replaced while being opened", o.what(), name)
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// ReadAll reads the whole of name, which Open accepts, through a reader
// limited to o.MaxBytes (a file that grows past the limit while being read
// is refused too). o.MaxBytes must be set.
func ReadAll(name string, o Options) ([]byte, error) {
	if o.MaxBytes <= 0 {
		return nil, fmt.Errorf("inputfile: ReadAll %s: MaxBytes must be positive", name)
	}
	f, fi, err := Open(name, o)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, fi.Size()+1)
	buf, err = readFull(io.LimitReader(f, o.MaxBytes+1), buf)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", o.what(), name, err)
	}
	if int64(len(buf)) > o.MaxBytes {
		return nil, fmt.Errorf("%s %s: %w: grew past the %d-byte limit while being read", o.what(), name, ErrTooLarge, o.MaxBytes)
	}
	return buf, nil
}

func readFull(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// check refuses a non-regular file or one over the size limit.
func (o Options) check(name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s %s: %w (%s)", o.what(), name, ErrNotRegular, kind(fi.Mode()))
	}
	if o.MaxBytes > 0 && fi.Size() > o.MaxBytes {
		return fmt.Errorf("%s %s: %w: %d bytes, the limit is %d", o.what(), name, ErrTooLarge, fi.Size(), o.MaxBytes)
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "an irregular file"
}

// within turns name into a path relative to dir, refusing an absolute name
// outside dir and any name that climbs out of it lexically (symbolic links
// are os.Root's to refuse).
func within(dir, name string) (string, error) {
	rel := filepath.Clean(name)
	if filepath.IsAbs(rel) {
		absDir, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		if rel, err = filepath.Rel(absDir, rel); err != nil {
			return "", fmt.Errorf("%w %s", ErrOutsideDir, dir)
		}
	}
	if climbs(rel) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w %s", ErrOutsideDir, dir)
	}
	return rel, nil
}

// resolvesWithin refuses a name under dir that resolves, through symbolic
// links, outside it. os.Root enforces the same at open time (without a race);
// this check gives the refusal its sentinel. A name that does not resolve is
// left to Stat to report.
func resolvesWithin(dir, rel string) error {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	real, err := filepath.EvalSymlinks(filepath.Join(dir, rel))
	if err != nil {
		return nil
	}
	if r, err := filepath.Rel(realDir, real); err != nil || climbs(r) {
		return fmt.Errorf("%w %s (through a symbolic link)", ErrOutsideDir, dir)
	}
	return nil
}

// climbs reports whether the relative path rel leaves its base.
func climbs(rel string) bool {
	return rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
