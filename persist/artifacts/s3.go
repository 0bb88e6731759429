package artifacts

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Options configures an S3-compatible store. String, GoString and
// LogValue redact SecretKey.
type S3Options struct {
	// Endpoint is host[:port] of the S3 API, without scheme (required),
	// e.g. "s3.amazonaws.com" or "127.0.0.1:7070".
	Endpoint string
	// Bucket holds the artifacts (required); NewS3 creates it when missing.
	Bucket string
	// AccessKey and SecretKey are static credentials; both empty means
	// anonymous requests.
	AccessKey string
	SecretKey string
	// UseSSL selects https (default false: http).
	UseSSL bool
	// Region of the bucket (default "": the client asks the server, and
	// NewS3 creates a missing bucket in us-east-1).
	Region string
	// Prefix is prepended to every key (default "": keys at the bucket's
	// root). Slash-separated, no leading slash, no empty, "." or ".."
	// segment; a trailing slash is implied.
	Prefix string
	// SpoolDir holds Put's temporary copy of the bytes while they are hashed
	// (default os.TempDir()). It needs room for the largest artifact.
	SpoolDir string
}

// Validate reports the first bad field, by name.
func (o S3Options) Validate() error {
	switch {
	case o.Endpoint == "":
		return errors.New("S3Options.Endpoint: required")
	case strings.Contains(o.Endpoint, "://"):
		return fmt.Errorf("S3Options.Endpoint %q: host[:port] without scheme (set UseSSL for https)", o.Endpoint)
	case strings.ContainsAny(o.Endpoint, "/?#@ "):
		return fmt.Errorf("S3Options.Endpoint %q: host[:port] only", o.Endpoint)
	case o.Bucket == "":
		return errors.New("S3Options.Bucket: required")
	case (o.AccessKey == "") != (o.SecretKey == ""):
		if o.AccessKey == "" {
			return errors.New("S3Options.AccessKey: required with a SecretKey")
		}
		return errors.New("S3Options.SecretKey: required with an AccessKey")
	}
	if err := s3utils.CheckValidBucketNameStrict(o.Bucket); err != nil {
		return fmt.Errorf("S3Options.Bucket %q: %v", o.Bucket, err)
	}
	if o.Prefix != "" {
		p := strings.TrimSuffix(o.Prefix, "/")
		if strings.HasPrefix(p, "/") || p == "" {
			return fmt.Errorf("S3Options.Prefix %q: no leading slash", o.Prefix)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return fmt.Errorf("S3Options.Prefix %q: empty, \".\" or \"..\" segment", o.Prefix)
			}
		}
	}
	if o.SpoolDir != "" {
		if fi, err := os.Stat(o.SpoolDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("S3Options.SpoolDir %q: not a directory", o.SpoolDir)
		}
	}
	return nil
}

// String prints the options with SecretKey redacted.
func (o S3Options) String() string {
	secret := ""
	if o.SecretKey != "" {
		secret = "REDACTED"
	}
	return fmt.Sprintf("S3Options{Endpoint:%q Bucket:%q AccessKey:%q SecretKey:%s UseSSL:%t Region:%q Prefix:%q SpoolDir:%q}",
		o.Endpoint, o.Bucket, o.AccessKey, secret, o.UseSSL, o.Region, o.Prefix, o.SpoolDir)
}

// GoString is String, so %#v redacts too.
func (o S3Options) GoString() string { return o.String() }

// LogValue redacts SecretKey in slog output.
func (o S3Options) LogValue() slog.Value {
	return slog.StringValue(o.String())
}

// S3 is a Store in an S3-compatible bucket, keys
// <Prefix>sha256/<hex[0:2]>/<hex>.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	spool  string
	desc   string // for errors and String: no secrets
}

var _ Store = (*S3)(nil)

// NewS3 connects to o.Endpoint and creates o.Bucket when it is missing.
func NewS3(ctx context.Context, o S3Options) (*S3, error) { return newS3(ctx, o, true) }

func newS3(ctx context.Context, o S3Options, create bool) (*S3, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("artifacts: NewS3: %w", err)
	}
	// Empty keys make anonymous requests.
	creds := credentials.NewStaticV4(o.AccessKey, o.SecretKey, "")
	c, err := minio.New(o.Endpoint, &minio.Options{Creds: creds, Secure: o.UseSSL, Region: o.Region})
	if err != nil {
		return nil, fmt.Errorf("artifacts: NewS3 %s: %w", o.Endpoint, err)
	}
	s := &S3{c: c, bucket: o.Bucket, spool: o.SpoolDir}
	if p := strings.TrimSuffix(o.Prefix, "/"); p != "" {
		s.prefix = p + "/"
	}
	if s.spool == "" {
		s.spool = os.TempDir()
	}
	scheme := "http"
	if o.UseSSL {
		scheme = "https"
	}
	s.desc = fmt.Sprintf("artifacts.S3(%s://%s s3://%s/%s)", scheme, o.Endpoint, s.bucket, s.prefix)

	ok, err := c.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("artifacts: NewS3 %v: bucket: %w", s, err)
	}
	if !ok {
		if !create {
			return nil, fmt.Errorf("artifacts: %v: bucket %s: %w", s, s.bucket, ErrNotFound)
		}
		err := c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: o.Region})
		if code := minio.ToErrorResponse(err).Code; code == minio.BucketAlreadyOwnedByYou || code == minio.BucketAlreadyExists {
			err = nil // made concurrently
		}
		if err != nil {
			return nil, fmt.Errorf("artifacts: NewS3 %v: make bucket: %w", s, err)
		}
	}
	return s, nil
}

func (s *S3) String() string { return s.desc }

// Key is the object key of sum in the bucket.
func (s *S3) Key(sum [32]byte) string { return s.prefix + keyOf(sum) }

func (s *S3) uri(sum [32]byte) string {
	return (&url.URL{Scheme: "s3", Host: s.bucket, Path: "/" + s.Key(sum)}).String()
}

// Put spools r through sha256 into a temporary file in SpoolDir, then, unless
// an object of that size is already at the content address, uploads the file
// to it with one PutObject (multipart above 16 MiB, read in place from the
// file, never buffered whole).
func (s *S3) Put(ctx context.Context, r io.Reader, format string) (Artifact, error) {
	if err := ctx.Err(); err != nil {
		return Artifact{}, err
	}
	spool, err := os.CreateTemp(s.spool, "thunderline-artifact-*")
	if err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put %v: spool: %w", s, err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(spool, h), ctxReader{ctx, r})
	if err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put %v: copy: %w", s, err)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	a := Artifact{URI: s.uri(sum), SHA256: sum, Size: n, Format: format}
	key := s.Key(sum)

	info, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	switch {
	case err == nil && info.Size == n:
		return a, nil // already stored
	case err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey:
		return Artifact{}, fmt.Errorf("artifacts: put %s: stat: %w", a.URI, err)
	}
	_, err = s.c.PutObject(ctx, s.bucket, key, io.NewSectionReader(spool, 0, n), n,
		minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return Artifact{}, fmt.Errorf("artifacts: put %s: %w", a.URI, err)
	}
	return a, nil
}

// Open starts a GET of a's object; the reader verifies its sha256 and size.
func (s *S3) Open(ctx context.Context, a Artifact) (io.ReadCloser, error) {
	uri := s.uri(a.SHA256)
	if err := checkOpen(a, uri, s); err != nil {
		return nil, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.Key(a.SHA256), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("artifacts: open %s: %w", uri, err)
	}
	// Stat sends the GET and reports a missing object now rather than at
	// the first Read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, fmt.Errorf("artifacts: open %s: %w", uri, ErrNotFound)
		}
		return nil, fmt.Errorf("artifacts: open %s: %w", uri, err)
	}
	a.URI = uri
	return newVerifier(obj, a), nil
}

// Stat HEADs sum's object.
func (s *S3) Stat(ctx context.Context, sum [32]byte) (Artifact, bool, error) {
	info, err := s.c.StatObject(ctx, s.bucket, s.Key(sum), minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return Artifact{}, false, nil
	}
	if err != nil {
		return Artifact{}, false, fmt.Errorf("artifacts: stat %s: %w", s.uri(sum), err)
	}
	return Artifact{URI: s.uri(sum), SHA256: sum, Size: info.Size}, true, nil
}
