package artifacts_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
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
		// put is the sub-benchmark "store" of the store newStore makes, or
		// "dup": the same bytes every time, stored before the timer starts.
		put := func(what string, dup bool, newStore func(b *testing.B) artifacts.Store) {
			variant, next := "store", stamp
			if dup {
				variant, next = "dup", func(int) []byte { return data }
			}
			b.Run(what+"/"+name+"/"+variant, func(b *testing.B) {
				s := newStore(b)
				if dup {
					stamp(-1)
					if _, err := s.Put(ctx, bytes.NewReader(data), "bin"); err != nil {
						b.Fatal(err)
					}
				}
				loop(b, size, func(i int) error {
					_, err := s.Put(ctx, bytes.NewReader(next(i)), "bin")
					return err
				})
			})
		}
		newFS := func(b *testing.B) artifacts.Store {
			s, err := artifacts.NewFS(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
		newS3 := func(b *testing.B) artifacts.Store {
			o := s3test.Endpoint(b)
			o.SpoolDir = b.TempDir()
			s, err := artifacts.NewS3(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}

		put("fs", false, newFS)
		put("fs", true, newFS)
		b.Run("fs/"+name+"/baseline-writefile", func(b *testing.B) {
			dir := b.TempDir()
			loop(b, size, func(i int) error { return os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), stamp(i), 0o644) })
		})
		b.Run("fs/"+name+"/baseline-writefile-fsync", func(b *testing.B) {
			dir := b.TempDir()
			loop(b, size, func(i int) error { return writeSync(filepath.Join(dir, fmt.Sprint(i)), stamp(i)) })
		})

		put("s3", false, newS3)
		put("s3", true, newS3)
		b.Run("s3/"+name+"/baseline-putobject", func(b *testing.B) {
			o := s3test.Endpoint(b)
			// The store made the bucket in the other sub-benchmarks; here
			// NewS3 only makes it.
			if _, err := artifacts.NewS3(ctx, o); err != nil {
				b.Fatal(err)
			}
			c := s3test.Client(b, o)
			loop(b, size, func(i int) error {
				d := stamp(i)
				_, err := c.PutObject(ctx, o.Bucket, fmt.Sprintf("plain/%d", i), bytes.NewReader(d), int64(len(d)),
					minio.PutObjectOptions{ContentType: "application/octet-stream"})
				return err
			})
		})
	}
}

// loop runs one put of size bytes per iteration.
func loop(b *testing.B, size int, put func(i int) error) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := put(i); err != nil {
			b.Fatal(err)
		}
	}
}

// writeSync writes data to a new file at path and fsyncs it.
func writeSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
