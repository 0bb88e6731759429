package artifacts

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// FS is a Store in a local directory: <dir>/sha256/<hex[0:2]>/<hex>, files
// read-only (0444), temporary files in <dir>/.tmp.
type FS struct {
	dir string // absolute, cleaned
}

var _ Store = (*FS)(nil)

// NewFS returns the store in dir (made absolute), creating dir, dir/sha256
// and dir/.tmp when missing.
func NewFS(dir string) (*FS, error) {
	s, err := openFS(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{s.dir, filepath.Join(s.dir, "sha256"), filepath.Join(s.dir, ".tmp")} {
		if err := mkdirSynced(d); err != nil {
			return nil, fmt.Errorf("artifacts: create %s: %w", d, err)
		}
	}
	return s, nil
}

// openFS is NewFS without creating anything (FromURI: a reader must not).
func openFS(dir string) (*FS, error) {
	if dir == "" {
		return nil, errors.New("artifacts: NewFS: dir is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("artifacts: NewFS %s: %w", dir, err)
	}
	return &FS{dir: abs}, nil
}

// Dir is the store's directory.
func (s *FS) Dir() string { return s.dir }

func (s *FS) String() string { return "artifacts.FS(" + s.dir + ")" }

func (s *FS) path(sum [32]byte) string { return filepath.Join(s.dir, filepath.FromSlash(keyOf(sum))) }

func (s *FS) uri(sum [32]byte) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(s.path(sum))}).String()
}

// Put streams r through sha256 into a temporary file in <dir>/.tmp, then
// (unless the content is already stored) fsyncs it, renames it to its
// content address and fsyncs the address's directory.
func (s *FS) Put(ctx context.Context, r io.Reader, format string) (Artifact, error) {
	if err := ctx.Err(); err != nil {
		return Artifact{}, err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, ".tmp"), "put-*")
	if err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		if tmpName != "" {
			os.Remove(tmpName)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put: copy: %w", err)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	a := Artifact{URI: s.uri(sum), SHA256: sum, Size: n, Format: format}
	final := s.path(sum)

	// Already stored (a whole regular file of this size): keep it. A file of
	// another size is a torn or foreign file: replace it.
	if fi, err := os.Lstat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == n {
		return a, nil
	}
	if err := tmp.Chmod(0o444); err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put: fsync %s: %w", tmpName, err)
	}
	err = tmp.Close()
	tmp = nil
	if err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put: close %s: %w", tmpName, err)
	}
	if err := ctx.Err(); err != nil {
		return Artifact{}, err
	}
	fan := filepath.Dir(final)
	if err := mkdirSynced(fan); err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put: create %s: %w", fan, err)
	}
	if err := os.Rename(tmpName, final); err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put: rename to %s: %w", final, err)
	}
	tmpName = ""
	if err := syncDir(fan); err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put: fsync %s: %w", fan, err)
	}
	return a, nil
}

// Open opens a's file; the reader verifies its sha256 and size.
func (s *FS) Open(ctx context.Context, a Artifact) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	uri := s.uri(a.SHA256)
	if err := checkOpen(a, uri, s); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(a.SHA256))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("artifacts: open %s: %w", uri, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("artifacts: open %s: %w", uri, err)
	}
	a.URI = uri
	return newVerifier(f, a), nil
}

// Stat reports whether sum is stored.
func (s *FS) Stat(ctx context.Context, sum [32]byte) (Artifact, bool, error) {
	if err := ctx.Err(); err != nil {
		return Artifact{}, false, err
	}
	fi, err := os.Stat(s.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return Artifact{}, false, nil
	}
	if err != nil {
		return Artifact{}, false, fmt.Errorf("artifacts: stat %s: %w", s.uri(sum), err)
	}
	if !fi.Mode().IsRegular() {
		return Artifact{}, false, fmt.Errorf("artifacts: stat %s: not a regular file", s.uri(sum))
	}
	return Artifact{URI: s.uri(sum), SHA256: sum, Size: fi.Size()}, true, nil
}

// checkOpen rejects an Artifact that cannot be this store's.
func checkOpen(a Artifact, uri string, store fmt.Stringer) error {
	if a.URI != "" && a.URI != uri {
		return fmt.Errorf("artifacts: open %s: not in %v (its address there is %s)", a.URI, store, uri)
	}
	if a.Size < 0 {
		return fmt.Errorf("artifacts: open %s: negative size %d", uri, a.Size)
	}
	return nil
}

// mkdirSynced creates dir if missing and, when it did, fsyncs the parent so
// the new entry survives a crash.
func mkdirSynced(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
			return nil
		}
		return err
	}
	if errors.Is(err, fs.ErrNotExist) { // parents missing (NewFS of a deep path)
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
		return mkdirSynced(dir)
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
