// Package s3test gives tests a bucket on a real S3-compatible server:
// THUNDERLINE_TEST_S3_ENDPOINT's (with _ACCESS, _SECRET and, for https,
// THUNDERLINE_TEST_S3_SSL=1), or one versitygw per test binary started with
// persist/artifacts/testdata/s3-start.sh (built into .tools/bin when missing)
// on the first Endpoint call and stopped by Main, or, if the binary dies,
// by the script's watchdog. Test helpers only.
package s3test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"thunderline/persist/artifacts"
	"thunderline/persist/internal/testscript"
)

var (
	once    sync.Once
	server  artifacts.S3Options // Endpoint, keys, UseSSL
	dir     string              // "" when the server is not ours
	startEr error
	seq     atomic.Int64
)

// scripts is persist/artifacts/testdata, found from this file's place.
func scripts() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

func start() {
	if ep := os.Getenv("THUNDERLINE_TEST_S3_ENDPOINT"); ep != "" {
		server = artifacts.S3Options{
			Endpoint:  ep,
			AccessKey: os.Getenv("THUNDERLINE_TEST_S3_ACCESS"),
			SecretKey: os.Getenv("THUNDERLINE_TEST_S3_SECRET"),
			UseSSL:    os.Getenv("THUNDERLINE_TEST_S3_SSL") == "1",
		}
		return
	}
	d, err := os.MkdirTemp("", "thunderline-s3-")
	if err != nil {
		startEr = err
		return
	}
	out, err := script(d, "s3-start.sh")
	if err != nil {
		os.RemoveAll(d)
		startEr = fmt.Errorf("s3-start.sh: %w\n%s", err, out)
		return
	}
	f := strings.Fields(out)
	if len(f) != 4 {
		script(d, "s3-stop.sh", "--purge")
		startEr = fmt.Errorf("s3-start.sh printed %d fields, want endpoint access secret pid", len(f))
		return
	}
	dir = d
	server = artifacts.S3Options{Endpoint: f[0], AccessKey: f[1], SecretKey: f[2]}
}

func script(d, name string, args ...string) (string, error) {
	return testscript.Run(filepath.Join(scripts(), name),
		[]string{"THUNDERLINE_S3_DIR=" + d, "THUNDERLINE_S3_OWNER_PID=" + strconv.Itoa(os.Getpid())}, args...)
}

// Server returns the server's options without a bucket (starting it on the
// first call).
func Server(t testing.TB) artifacts.S3Options {
	t.Helper()
	once.Do(start)
	if startEr != nil {
		t.Fatal(startEr)
	}
	return server
}

// Endpoint returns options for a new, not yet created bucket of its own on
// the test server (artifacts.NewS3 creates it). The bucket and its objects
// are removed when the test ends.
func Endpoint(t testing.TB) artifacts.S3Options {
	t.Helper()
	o := Server(t)
	o.Bucket = fmt.Sprintf("tl-test-%d-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
	t.Cleanup(func() {
		if err := removeBucket(o); err != nil {
			t.Errorf("s3test: remove bucket %s: %v", o.Bucket, err)
		}
	})
	return o
}

// Client is a plain minio client for o (corrupting objects, listing them,
// baselines).
func Client(t testing.TB, o artifacts.S3Options) *minio.Client {
	t.Helper()
	c, err := client(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func client(o artifacts.S3Options) (*minio.Client, error) {
	return minio.New(o.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure: o.UseSSL,
		Region: o.Region,
	})
}

func removeBucket(o artifacts.S3Options) error {
	c, err := client(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if ok, err := c.BucketExists(ctx, o.Bucket); err != nil || !ok {
		return err
	}
	for obj := range c.ListObjects(ctx, o.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		if err := c.RemoveObject(ctx, o.Bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			return err
		}
	}
	return c.RemoveBucket(ctx, o.Bucket)
}

// Stop stops and purges the server Endpoint started, if any.
func Stop() {
	if dir != "" {
		script(dir, "s3-stop.sh", "--purge")
		dir = ""
	}
}

// Main runs the tests and then stops the server: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}
