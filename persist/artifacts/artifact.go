package artifacts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
)

// Artifact names stored bytes: where they are (URI), what they are (SHA256,
// Size) and how to read them (Format, the caller's label such as
// "safetensors"; it is not part of the address and the store does not keep
// it, so Stat returns it empty).
type Artifact struct {
	URI    string   // file:///abs/path or s3://bucket/key
	SHA256 [32]byte // hex in JSON
	Size   int64
	Format string
}

// Hex is the artifact's sha256 in lower-case hex.
func (a Artifact) Hex() string { return hex.EncodeToString(a.SHA256[:]) }

type artifactJSON struct {
	URI    string `json:"uri"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Format string `json:"format,omitempty"`
}

// MarshalJSON writes {"uri","sha256" (hex),"size","format"}.
func (a Artifact) MarshalJSON() ([]byte, error) {
	return json.Marshal(artifactJSON{URI: a.URI, SHA256: a.Hex(), Size: a.Size, Format: a.Format})
}

// UnmarshalJSON reads what MarshalJSON writes; the sha256 must be 64 hex digits.
func (a *Artifact) UnmarshalJSON(b []byte) error {
	var j artifactJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	sum, err := ParseSHA256(j.SHA256)
	if err != nil {
		return fmt.Errorf("artifact sha256: %w", err)
	}
	*a = Artifact{URI: j.URI, SHA256: sum, Size: j.Size, Format: j.Format}
	return nil
}

// ParseSHA256 parses 64 hex digits (either case).
func ParseSHA256(s string) ([32]byte, error) {
	var sum [32]byte
	if len(s) != 64 {
		return sum, fmt.Errorf("sha256 %q: want 64 hex digits, have %d characters", s, len(s))
	}
	if _, err := hex.Decode(sum[:], []byte(s)); err != nil {
		return sum, fmt.Errorf("sha256 %q: %w", s, err)
	}
	return sum, nil
}

// Store is content-addressed artifact storage. Implementations are safe for
// concurrent use.
type Store interface {
	// Put stores everything r yields under its sha256 and returns its
	// Artifact, Format set to format. Putting bytes already stored returns
	// the same Artifact and stores no second copy.
	Put(ctx context.Context, r io.Reader, format string) (Artifact, error)
	// Open returns a reader of a's bytes (located by a.SHA256; a.URI, when
	// set, must be this store's URI for them). The reader verifies the sha256
	// and a.Size as it goes: a mismatch is a *MismatchError at EOF (or as soon
	// as more than a.Size bytes arrive) instead of io.EOF. A missing artifact
	// is an error wrapping ErrNotFound.
	Open(ctx context.Context, a Artifact) (io.ReadCloser, error)
	// Stat reports whether the bytes of sum are stored, and their Artifact
	// (Format empty).
	Stat(ctx context.Context, sum [32]byte) (Artifact, bool, error)
}

var (
	// ErrNotFound is wrapped by Open's and OpenURI's error for an artifact
	// that is not stored.
	ErrNotFound = errors.New("artifact not found")
	// ErrCorrupt is what a *MismatchError is (errors.Is).
	ErrCorrupt = errors.New("artifact content does not match its sha256")
)

// MismatchError reports stored bytes that are not what their address says.
type MismatchError struct {
	URI               string
	Want, Got         [32]byte // Got is zero when the size check failed first
	WantSize, GotSize int64    // GotSize counts the bytes read so far
}

func (e *MismatchError) Error() string {
	if e.Got == ([32]byte{}) {
		return fmt.Sprintf("%s: %v: read %d bytes, want %d", e.URI, ErrCorrupt, e.GotSize, e.WantSize)
	}
	return fmt.Sprintf("%s: %v: sha256 %x (%d bytes), want %x (%d bytes)",
		e.URI, ErrCorrupt, e.Got, e.GotSize, e.Want, e.WantSize)
}

// Unwrap makes errors.Is(err, ErrCorrupt) hold.
func (e *MismatchError) Unwrap() error { return ErrCorrupt }

// keyOf is the content address of sum, relative to a store's root.
func keyOf(sum [32]byte) string {
	h := hex.EncodeToString(sum[:])
	return "sha256/" + h[:2] + "/" + h
}

// splitKey splits p (a path or an S3 key ending in a content address) into
// the store root before it and the sha256 it names.
func splitKey(p string) (root string, sum [32]byte, err error) {
	parts := strings.Split(p, "/")
	if len(parts) < 3 || parts[len(parts)-3] != "sha256" {
		return "", sum, fmt.Errorf("%q does not end in sha256/<hex[0:2]>/<hex>", p)
	}
	h := parts[len(parts)-1]
	if sum, err = ParseSHA256(h); err != nil {
		return "", sum, err
	}
	if h != hex.EncodeToString(sum[:]) || parts[len(parts)-2] != h[:2] {
		return "", sum, fmt.Errorf("%q is not a content address (lower-case hex, fan-out of the first two digits)", p)
	}
	return path.Join(parts[:len(parts)-3]...), sum, nil
}

// verifier passes a stored object's bytes through, hashing them; at EOF it
// reports a *MismatchError unless the bytes are the ones a names.
type verifier struct {
	rc   io.ReadCloser
	h    hash.Hash
	n    int64
	a    Artifact
	done error // sticky result once decided
}

func newVerifier(rc io.ReadCloser, a Artifact) *verifier {
	return &verifier{rc: rc, h: sha256.New(), a: a}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.done != nil {
		return 0, v.done
	}
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.a.Size {
		v.done = &MismatchError{URI: v.a.URI, Want: v.a.SHA256, WantSize: v.a.Size, GotSize: v.n}
		return n, v.done
	}
	if err == io.EOF {
		var got [32]byte
		v.h.Sum(got[:0])
		if got != v.a.SHA256 || v.n != v.a.Size {
			v.done = &MismatchError{URI: v.a.URI, Want: v.a.SHA256, Got: got, WantSize: v.a.Size, GotSize: v.n}
		} else {
			v.done = io.EOF
		}
		return n, v.done
	}
	if err != nil {
		v.done = err
	}
	return n, err
}

func (v *verifier) Close() error { return v.rc.Close() }

// ctxReader stops a Put's copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
