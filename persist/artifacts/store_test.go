package artifacts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"thunderline/persist/artifacts"
	"thunderline/persist/artifacts/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// fixture is one store under test and what the contract needs to look
// behind its back.
type fixture struct {
	store   artifacts.Store
	creds   artifacts.S3Options // for FromURI/OpenURI (zero for FS)
	wantURI func(sum [32]byte) string
	// replace overwrites a's stored bytes behind the store's back.
	replace func(t *testing.T, a artifacts.Artifact, b []byte)
	// objects lists everything stored, temporary files and spools included.
	objects func(t *testing.T) []string
}

type backend struct {
	name string
	new  func(t *testing.T) *fixture
}

func backends() []backend {
	return []backend{
		{"fs", newFSFixture},
		{"s3", func(t *testing.T) *fixture { return newS3Fixture(t, "") }},
		{"s3-prefix", func(t *testing.T) *fixture { return newS3Fixture(t, "runs/r1") }},
	}
}

func newFSFixture(t *testing.T) *fixture {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := artifacts.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		store: s,
		wantURI: func(sum [32]byte) string {
			h := hex.EncodeToString(sum[:])
			return "file://" + filepath.ToSlash(dir) + "/sha256/" + h[:2] + "/" + h
		},
		replace: func(t *testing.T, a artifacts.Artifact, b []byte) {
			p := uriPath(t, a.URI)
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		objects: func(t *testing.T) []string { return walkFiles(t, dir) },
	}
}

func newS3Fixture(t *testing.T, prefix string) *fixture {
	o := s3test.Endpoint(t)
	o.Prefix = prefix
	o.SpoolDir = t.TempDir()
	s, err := artifacts.NewS3(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	c := s3test.Client(t, o)
	keyPrefix := ""
	if prefix != "" {
		keyPrefix = prefix + "/"
	}
	return &fixture{
		store: s,
		creds: artifacts.S3Options{Endpoint: o.Endpoint, AccessKey: o.AccessKey, SecretKey: o.SecretKey, UseSSL: o.UseSSL},
		wantURI: func(sum [32]byte) string {
			h := hex.EncodeToString(sum[:])
			return "s3://" + o.Bucket + "/" + keyPrefix + "sha256/" + h[:2] + "/" + h
		},
		replace: func(t *testing.T, a artifacts.Artifact, b []byte) {
			_, err := c.PutObject(context.Background(), o.Bucket, s.Key(a.SHA256), bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
		},
		objects: func(t *testing.T) []string {
			var keys []string
			for obj := range c.ListObjects(context.Background(), o.Bucket, minio.ListObjectsOptions{Recursive: true}) {
				if obj.Err != nil {
					t.Fatal(obj.Err)
				}
				keys = append(keys, "s3://"+o.Bucket+"/"+obj.Key)
			}
			// A Put's spool file must be gone when it returns.
			return append(keys, walkFiles(t, o.SpoolDir)...)
		},
	}
}

func walkFiles(t *testing.T, dir string) []string {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func uriPath(t *testing.T, uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" {
		t.Fatalf("not a file URI: %q (%v)", uri, err)
	}
	return filepath.FromSlash(u.Path)
}

func pseudoRandom(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint64(seed)*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

func readAll(t *testing.T, s artifacts.Store, a artifacts.Artifact) ([]byte, error) {
	t.Helper()
	rc, err := s.Open(context.Background(), a)
	if err != nil {
		t.Fatalf("open %s: %v", a.URI, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func put(t *testing.T, s artifacts.Store, b []byte, format string) artifacts.Artifact {
	t.Helper()
	a, err := s.Put(context.Background(), bytes.NewReader(b), format)
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	return a
}

// TestStoreContract runs the same cases against the FS store and the S3
// store on a real S3-compatible server (with and without a key prefix).
func TestStoreContract(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, f *fixture)
	}{
		{"PutOpen", testPutOpen},
		{"PutTwice", testPutTwice},
		{"Stat", testStat},
		{"Corrupt", testCorrupt},
		{"Empty", testEmpty},
		{"Stream20MB", testStream20MB},
		{"ConcurrentSame", testConcurrentSame},
		{"NotFound", testNotFound},
		{"ForeignURI", testForeignURI},
		{"FromURI", testFromURI},
		{"Canceled", testCanceled},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, b.new(t)) })
			}
		})
	}
}

// testPutOpen: Put returns the content address; Open returns the bytes.
func testPutOpen(t *testing.T, f *fixture) {
	data := pseudoRandom(100_000, 1)
	a := put(t, f.store, data, "safetensors")
	want := artifacts.Artifact{URI: f.wantURI(sha256.Sum256(data)), SHA256: sha256.Sum256(data), Size: int64(len(data)), Format: "safetensors"}
	if a != want {
		t.Fatalf("put = %+v, want %+v", a, want)
	}
	got, err := readAll(t, f.store, a)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, differing from the %d put", len(got), len(data))
	}
	if objs := f.objects(t); len(objs) != 1 {
		t.Fatalf("stored objects %v, want exactly one", objs)
	}
}

// testPutTwice: the same bytes again (another format label too) are the same
// artifact and no second object; for FS the file is not even rewritten.
func testPutTwice(t *testing.T, f *fixture) {
	data := pseudoRandom(50_000, 2)
	a1 := put(t, f.store, data, "npy")
	before := f.objects(t)
	var fi1 os.FileInfo
	if strings.HasPrefix(a1.URI, "file://") {
		fi1, _ = os.Stat(uriPath(t, a1.URI))
	}
	a2 := put(t, f.store, data, "npy")
	if a1 != a2 {
		t.Fatalf("second put = %+v, first %+v", a2, a1)
	}
	a3 := put(t, f.store, data, "raw")
	if a3.URI != a1.URI || a3.SHA256 != a1.SHA256 || a3.Size != a1.Size || a3.Format != "raw" {
		t.Fatalf("put under another format = %+v, first %+v", a3, a1)
	}
	after := f.objects(t)
	if len(after) != 1 || !slices.Equal(before, after) {
		t.Fatalf("objects after one put %v, after three %v: want the same single one", before, after)
	}
	if fi1 != nil {
		fi2, err := os.Stat(uriPath(t, a1.URI))
		if err != nil || !os.SameFile(fi1, fi2) {
			t.Fatalf("file replaced by the second put (err %v)", err)
		}
	}
}

func testStat(t *testing.T, f *fixture) {
	ctx := context.Background()
	data := pseudoRandom(1234, 3)
	sum := sha256.Sum256(data)
	if a, ok, err := f.store.Stat(ctx, sum); err != nil || ok {
		t.Fatalf("stat before put = %+v, %v, %v; want not found", a, ok, err)
	}
	put(t, f.store, data, "bin")
	a, ok, err := f.store.Stat(ctx, sum)
	want := artifacts.Artifact{URI: f.wantURI(sum), SHA256: sum, Size: 1234}
	if err != nil || !ok || a != want {
		t.Fatalf("stat after put = %+v, %v, %v; want %+v, true", a, ok, err, want)
	}
	other := sha256.Sum256([]byte("other"))
	if _, ok, err := f.store.Stat(ctx, other); err != nil || ok {
		t.Fatalf("stat of another sum = %v, %v; want not found", ok, err)
	}
}

// testCorrupt: bytes changed behind the store's back are a MismatchError at
// EOF (same size), or as soon as too many arrive (longer), or at a short EOF.
func testCorrupt(t *testing.T, f *fixture) {
	data := pseudoRandom(70_000, 4)
	for _, c := range []struct {
		name string
		bad  []byte
	}{
		{"flipped", func() []byte { b := slices.Clone(data); b[len(b)/2] ^= 1; return b }()},
		{"truncated", data[:len(data)-1]},
		{"longer", append(slices.Clone(data), 0)},
		{"empty", nil},
	} {
		a := put(t, f.store, data, "bin")
		f.replace(t, a, c.bad)
		got, err := readAll(t, f.store, a)
		var me *artifacts.MismatchError
		if !errors.Is(err, artifacts.ErrCorrupt) || !errors.As(err, &me) {
			t.Fatalf("%s: read = %d bytes, err %v; want a MismatchError", c.name, len(got), err)
		}
		if me.Want != a.SHA256 || me.WantSize != a.Size || me.URI != a.URI {
			t.Fatalf("%s: mismatch %+v does not describe %+v", c.name, me, a)
		}
		if len(c.bad) <= len(data) && (me.GotSize != int64(len(c.bad)) || me.Got != sha256.Sum256(c.bad)) {
			t.Fatalf("%s: mismatch got %x (%d bytes), stored %x (%d bytes)", c.name, me.Got, me.GotSize, sha256.Sum256(c.bad), len(c.bad))
		}
		if !strings.Contains(err.Error(), a.URI) {
			t.Fatalf("%s: error %q does not name %s", c.name, err, a.URI)
		}
		f.replace(t, a, data) // repaired for the next case
	}
}

func testEmpty(t *testing.T, f *fixture) {
	a := put(t, f.store, nil, "empty")
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if a.Hex() != emptySHA || a.Size != 0 || a.URI != f.wantURI(a.SHA256) {
		t.Fatalf("put of nothing = %+v", a)
	}
	got, err := readAll(t, f.store, a)
	if err != nil || len(got) != 0 {
		t.Fatalf("read = %d bytes, %v; want 0, nil", len(got), err)
	}
	if st, ok, err := f.store.Stat(context.Background(), a.SHA256); err != nil || !ok || st.Size != 0 {
		t.Fatalf("stat = %+v, %v, %v", st, ok, err)
	}
}

// genReader yields n pseudo-random bytes without holding them, hashing what
// it yields, and counts how it is read.
type genReader struct {
	left, total int64
	x           uint64
	h           hash.Hash
	reads       int
	maxRead     int
	afterEOF    int // reads after it returned io.EOF
	eof         bool
}

func newGenReader(n int64) *genReader {
	return &genReader{left: n, x: 88172645463325252, h: sha256.New()}
}

func (g *genReader) Read(p []byte) (int, error) {
	g.reads++
	g.maxRead = max(g.maxRead, len(p))
	if g.eof {
		g.afterEOF++
	}
	if g.left == 0 {
		g.eof = true
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	for i := range p {
		g.x ^= g.x << 13
		g.x ^= g.x >> 7
		g.x ^= g.x << 17
		p[i] = byte(g.x >> 24)
	}
	g.h.Write(p)
	g.left -= int64(len(p))
	g.total += int64(len(p))
	return len(p), nil
}

// testStream20MB: a 20 MB input is read once, in small reads, and never held
// in memory (the heap allocated during Put stays far below its size); it
// reads back with the same sha256, again streamed.
func testStream20MB(t *testing.T, f *fixture) {
	const n = 20_000_000
	g := newGenReader(n)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	a, err := f.store.Put(context.Background(), g, "bin")
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatal(err)
	}
	var want [32]byte
	g.h.Sum(want[:0])
	if g.total != n || g.afterEOF != 0 || a.Size != n || a.SHA256 != want {
		t.Fatalf("put read %d bytes (%d reads after EOF), artifact %+v; want %d bytes once, sha256 %x", g.total, g.afterEOF, a, n, want)
	}
	if g.maxRead > 1<<20 {
		t.Errorf("largest read asked for %d bytes: the input is buffered, not streamed", g.maxRead)
	}
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("put of %d bytes: %d reads of at most %d bytes, %d bytes allocated", n, g.reads, g.maxRead, alloc)
	if alloc > n/4 {
		t.Errorf("put allocated %d bytes for a %d-byte input: it is held in memory", alloc, n)
	}
	rc, err := f.store.Open(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if k, err := io.Copy(h, rc); err != nil || k != n || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("read back %d bytes, %v, sha256 %x; want %d, %x", k, err, h.Sum(nil), n, want)
	}
}

// testConcurrentSame: four goroutines put the same bytes at once: one
// artifact, one object, no temporaries left.
func testConcurrentSame(t *testing.T, f *fixture) {
	data := pseudoRandom(1<<20, 5)
	var (
		wg   sync.WaitGroup
		arts [4]artifacts.Artifact
		errs [4]error
	)
	for i := range arts {
		wg.Go(func() { arts[i], errs[i] = f.store.Put(context.Background(), bytes.NewReader(data), "bin") })
	}
	wg.Wait()
	for i := range arts {
		if errs[i] != nil {
			t.Fatalf("put %d: %v", i, errs[i])
		}
		if arts[i] != arts[0] {
			t.Fatalf("put %d = %+v, put 0 = %+v", i, arts[i], arts[0])
		}
	}
	if objs := f.objects(t); len(objs) != 1 {
		t.Fatalf("objects after 4 concurrent puts: %v, want exactly one", objs)
	}
	got, err := readAll(t, f.store, arts[0])
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read = %d bytes, %v", len(got), err)
	}
}

func testNotFound(t *testing.T, f *fixture) {
	sum := sha256.Sum256([]byte("never put"))
	_, err := f.store.Open(context.Background(), artifacts.Artifact{SHA256: sum, Size: 9})
	if !errors.Is(err, artifacts.ErrNotFound) {
		t.Fatalf("open of a missing artifact: %v, want ErrNotFound", err)
	}
}

// testForeignURI: an Artifact whose URI is not this store's address for its
// sha256 is refused rather than read from somewhere else.
func testForeignURI(t *testing.T, f *fixture) {
	a := put(t, f.store, []byte("mine"), "txt")
	a.URI = "s3://elsewhere/sha256/" + a.Hex()[:2] + "/" + a.Hex()
	if _, err := f.store.Open(context.Background(), a); err == nil || !strings.Contains(err.Error(), "not in") {
		t.Fatalf("open of a foreign URI: %v, want refused", err)
	}
}

// testFromURI: a URI alone (plus credentials for S3) finds the artifact
// again, and OpenURI checks it against the expected sha256.
func testFromURI(t *testing.T, f *fixture) {
	ctx := context.Background()
	data := pseudoRandom(3000, 6)
	a := put(t, f.store, data, "bin")
	s, got, err := artifacts.FromURI(ctx, a.URI, f.creds)
	if err != nil {
		t.Fatal(err)
	}
	if want := (artifacts.Artifact{URI: a.URI, SHA256: a.SHA256, Size: a.Size}); got != want {
		t.Fatalf("FromURI = %+v, want %+v", got, want)
	}
	if _, ok, err := s.Stat(ctx, a.SHA256); err != nil || !ok {
		t.Fatalf("the store FromURI returned does not hold it: %v, %v", ok, err)
	}
	rc, err := artifacts.OpenURI(ctx, a.URI, a.SHA256, f.creds)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(b, data) {
		t.Fatalf("OpenURI read %d bytes, %v", len(b), err)
	}
	if _, err := artifacts.OpenURI(ctx, a.URI, sha256.Sum256([]byte("x")), f.creds); err == nil {
		t.Fatal("OpenURI with another sha256 succeeded")
	}
	missing := f.wantURI(sha256.Sum256([]byte("never put")))
	if _, _, err := artifacts.FromURI(ctx, missing, f.creds); !errors.Is(err, artifacts.ErrNotFound) {
		t.Fatalf("FromURI of a missing artifact: %v, want ErrNotFound", err)
	}
}

// testCanceled: a Put whose context ends stores nothing.
func testCanceled(t *testing.T, f *fixture) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &cancelAfter{r: bytes.NewReader(pseudoRandom(1<<20, 7)), cancel: cancel, after: 3}
	if _, err := f.store.Put(ctx, r, "bin"); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with a canceled context: %v", err)
	}
	if objs := f.objects(t); len(objs) != 0 {
		t.Fatalf("objects after a canceled put: %v", objs)
	}
}

type cancelAfter struct {
	r      io.Reader
	cancel func()
	after  int
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.after--; c.after == 0 {
		c.cancel()
	}
	return c.r.Read(p[:min(len(p), 4096)])
}
