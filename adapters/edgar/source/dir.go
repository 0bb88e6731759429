package source

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sync"
	"thunderline/adapters/inputfile"
)

// DefaultMaxBytes is the default size limit of one document (256 MiB).
const DefaultMaxBytes = 256 << 20

// DirOptions configures Dir.
type DirOptions struct {
	// MaxBytes: files larger than this are skipped (and listed by
	// Skipped). 0 means DefaultMaxBytes; negative is an error.
	MaxBytes int64
	// Logger receives a line per skipped file; nil discards.
	Logger *slog.Logger
}

// Skip is a file Dir did not deliver, and why.
type Skip struct {
	Name   string // slash-separated path relative to the root
	Reason string
}

// DirSource delivers every regular file under a directory, recursively, in
// lexical (byte) order of the slash-separated relative path, so the order
// is the same on every machine. Hidden files and directories (name starting
// with "."), files larger than MaxBytes, non-regular files, unreadable
// entries and symbolic links to directories (never followed) are skipped
// and listed by Skipped; symbolic links to regular files are read.
//
// The listing is taken by Dir; contents are read one file at a time by
// Next. Skipped is safe to call from any goroutine.
type DirSource struct {
	root     string
	maxBytes int64
	log      *slog.Logger
	files    []string // relative slash paths, sorted
	pos      int
	closed   bool

	mu      sync.Mutex
	skipped []Skip
}

// Dir lists root and returns a source over its files. An error means root
// itself cannot be walked; problems below root are Skips.
func Dir(root string, opt DirOptions) (*DirSource, error) {
	if opt.MaxBytes < 0 {
		return nil, fmt.Errorf("dir options: MaxBytes %d is negative", opt.MaxBytes)
	}
	if opt.MaxBytes == 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	// The root itself may be a symbolic link; only links below it are not followed.
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("open dir %s: %w", root, err)
	}
	if fi, err := os.Stat(real); err != nil {
		return nil, fmt.Errorf("open dir %s: %w", root, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open dir %s: not a directory", root)
	}
	d := &DirSource{root: real, maxBytes: opt.MaxBytes, log: opt.Logger}
	err = filepath.WalkDir(real, func(p string, de fs.DirEntry, err error) error {
		if p == real {
			return err // the root must be readable
		}
		rel, rerr := filepath.Rel(real, p)
		if rerr != nil {
			return rerr
		}
		name := filepath.ToSlash(rel)
		if err != nil {
			d.skip(name, err.Error())
			if de != nil && de.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(de.Name(), ".") {
			d.skip(name, "hidden")
			if de.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch t := de.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			fi, err := os.Stat(p)
			switch {
			case err != nil:
				d.skip(name, "broken symbolic link: "+err.Error())
			case fi.IsDir():
				d.skip(name, "symbolic link to a directory (not followed)")
			case !fi.Mode().IsRegular():
				d.skip(name, "symbolic link to a non-regular file")
			default:
				d.add(name, fi.Size())
			}
		case t.IsRegular():
			fi, err := de.Info()
			if err != nil {
				d.skip(name, err.Error())
				return nil
			}
			d.add(name, fi.Size())
		default:
			d.skip(name, "not a regular file ("+t.String()+")")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk dir %s: %w", root, err)
	}
	slices.Sort(d.files)
	return d, nil
}

func (d *DirSource) add(name string, size int64) {
	if size > d.maxBytes {
		d.skip(name, fmt.Sprintf("size %d exceeds MaxBytes %d", size, d.maxBytes))
		return
	}
	d.files = append(d.files, name)
}

func (d *DirSource) skip(name, reason string) {
	d.log.Warn("edgar source: skipped file", "name", name, "reason", reason)
	d.mu.Lock()
	d.skipped = append(d.skipped, Skip{Name: name, Reason: reason})
	d.mu.Unlock()
}

// Next returns the next file, io.EOF after the last one. A file that cannot
// be read (removed, grown past MaxBytes, unreadable) is recorded in Skipped
// and the next one is returned.
func (d *DirSource) Next(ctx context.Context) (Doc, error) {
	if d.closed {
		return Doc{}, ErrClosed
	}
	for d.pos < len(d.files) {
		if err := ctx.Err(); err != nil {
			return Doc{}, err
		}
		name := d.files[d.pos]
		d.pos++
		body, err := d.read(name)
		if err != nil {
			d.skip(name, err.Error())
			continue
		}
		return Doc{Name: name, Body: body, Kind: Sniff(name, body), CIK: cikFromName(name)}, nil
	}
	return Doc{}, io.EOF
}

// read reads a listed file, which may have been replaced since the listing:
// inputfile refuses a non-regular file before opening it (a FIFO would
// block open) and reads at most maxBytes.
func (d *DirSource) read(name string) ([]byte, error) {
	return inputfile.ReadAll(filepath.Join(d.root, filepath.FromSlash(name)), inputfile.Options{MaxBytes: d.maxBytes})
}

// Close ends the source; Next then returns ErrClosed.
func (d *DirSource) Close() error {
	d.closed = true
	return nil
}

// Skipped returns the files not delivered so far, in the order met.
func (d *DirSource) Skipped() []Skip {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.skipped)
}
