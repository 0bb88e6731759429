package artifacts_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/minio/minio-go/v7"

	"thunderline/persist/artifacts"
	"thunderline/persist/artifacts/s3test"
)

// BenchmarkPut puts distinct content every iteration (the first 16 bytes are
// a per-run nonce and the iteration, so nothing deduplicates) and, in the
// same run, the baseline a plain write of the same bytes costs: os.WriteFile
// for the FS store (and os.WriteFile + fsync, what durability alone costs),
// a plain minio-go PutObject to a fresh key for the S3 store. The cost of
// content addressing is store ns/op ÷ baseline ns/op. "dup" puts bytes that
// are already stored.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	var nonce [8]byte
	rand.Read(nonce[:])
	for _, size := range []int{1 << 20, 16 << 20} {
		data := pseudoRandom(size, 9)
		copy(data, nonce[:])
		stamp := func(i int) []byte {
			binary.LittleEndian.PutUint64(data[8:], uint64(i))
			return data
		}
		name := fmt.Sprintf("%dMiB", size>>20)

		b.Run("fs/"+name+"/store", func(b *testing.B) {
			s, err := artifacts.NewFS(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Put(ctx, bytes.NewReader(stamp(i)), "bin"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("fs/"+name+"/dup", func(b *testing.B) {
			s, err := artifacts.NewFS(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			stamp(-1)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Put(ctx, bytes.NewReader(data), "bin"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("fs/"+name+"/baseline-writefile", func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), stamp(i), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("fs/"+name+"/baseline-writefile-fsync", func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Write(stamp(i)); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				if err := f.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})

		b.Run("s3/"+name+"/store", func(b *testing.B) {
			o := s3test.Endpoint(b)
			o.SpoolDir = b.TempDir()
			s, err := artifacts.NewS3(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Put(ctx, bytes.NewReader(stamp(i)), "bin"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("s3/"+name+"/dup", func(b *testing.B) {
			o := s3test.Endpoint(b)
			o.SpoolDir = b.TempDir()
			s, err := artifacts.NewS3(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			stamp(-1)
			if _, err := s.Put(ctx, bytes.NewReader(data), "bin"); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Put(ctx, bytes.NewReader(data), "bin"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("s3/"+name+"/baseline-putobject", func(b *testing.B) {
			o := s3test.Endpoint(b)
			// The store made the bucket in the other sub-benchmarks; here
			// NewS3 only makes it.
			if _, err := artifacts.NewS3(ctx, o); err != nil {
				b.Fatal(err)
			}
			c := s3test.Client(b, o)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				d := stamp(i)
				_, err := c.PutObject(ctx, o.Bucket, fmt.Sprintf("plain/%d", i), bytes.NewReader(d), int64(len(d)),
					minio.PutObjectOptions{ContentType: "application/octet-stream"})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
