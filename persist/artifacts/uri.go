package artifacts

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// FromURI returns the store holding the artifact uri names and its Artifact
// (Format empty), without creating anything. A file:// URI needs nothing
// else; an s3:// URI takes its bucket and prefix from the URI and the
// endpoint and credentials from s3 (whose Bucket and Prefix are ignored). An
// artifact that is not stored is an error wrapping ErrNotFound.
func FromURI(ctx context.Context, uri string, s3 S3Options) (Store, Artifact, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, Artifact{}, fmt.Errorf("artifacts: uri: %w", err)
	}
	var (
		store Store
		sum   [32]byte
	)
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, Artifact{}, fmt.Errorf("artifacts: uri %s: file URI of another host", uri)
		}
		var root string
		if root, sum, err = splitKey(u.Path); err != nil {
			return nil, Artifact{}, fmt.Errorf("artifacts: uri %s: %w", uri, err)
		}
		if store, err = openFS(filepath.FromSlash("/" + root)); err != nil {
			return nil, Artifact{}, err
		}
	case "s3":
		var prefix string
		if prefix, sum, err = splitKey(strings.TrimPrefix(u.Path, "/")); err != nil {
			return nil, Artifact{}, fmt.Errorf("artifacts: uri %s: %w", uri, err)
		}
		s3.Bucket, s3.Prefix = u.Host, prefix
		if store, err = newS3(ctx, s3, false); err != nil {
			return nil, Artifact{}, err
		}
	default:
		return nil, Artifact{}, fmt.Errorf("artifacts: uri %s: scheme %q is neither file nor s3", uri, u.Scheme)
	}
	a, ok, err := store.Stat(ctx, sum)
	if err != nil {
		return nil, Artifact{}, err
	}
	if !ok {
		return nil, Artifact{}, fmt.Errorf("artifacts: %s: %w", uri, ErrNotFound)
	}
	if a.URI != uri {
		// e.g. percent-encoding spelled differently: the store's spelling
		// is the one Put returns, and the one Open accepts.
		return nil, Artifact{}, fmt.Errorf("artifacts: uri %s: the store names it %s", uri, a.URI)
	}
	return store, a, nil
}

// OpenURI opens the artifact at uri, which must be the address of sum, for
// reading with verification (see Store.Open); s3 is as for FromURI.
func OpenURI(ctx context.Context, uri string, sum [32]byte, s3 S3Options) (io.ReadCloser, error) {
	store, a, err := FromURI(ctx, uri, s3)
	if err != nil {
		return nil, err
	}
	if a.SHA256 != sum {
		return nil, fmt.Errorf("artifacts: uri %s is the address of sha256 %x, want %x", uri, a.SHA256, sum)
	}
	return store.Open(ctx, a)
}
