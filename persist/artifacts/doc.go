// Package artifacts owns content-addressed artifact storage: model weights,
// exported datasets and other blobs a run produces or consumes, stored under
// the sha256 of their bytes on the local filesystem (NewFS, the default) or
// in an S3-compatible bucket (NewS3). It owns the bytes and their addresses;
// which artifact belongs to which run, and its Format, are the caller's to
// record (an Artifact marshals to JSON for that).
//
// # Key layout
//
// An artifact's key is
//
//	sha256/<hex[0:2]>/<hex>
//
// under the FS store's directory (URI file:///dir/sha256/ab/ab12…) or under
// the S3 store's Prefix in its bucket (URI s3://bucket/prefix/sha256/ab/ab12…).
// The key holds no format suffix: the address is the content and nothing
// else, so the same bytes put under two format labels are one object, and
// Stat needs no listing. The two-hex-digit fan-out keeps directories small.
//
// # Atomicity
//
// An object exists at its content address only whole and only with the bytes
// that hash to it, so a reader never sees a partial or foreign object there:
//
//   - FS: Put streams the reader through sha256 into a temporary file in
//     <dir>/.tmp (the same filesystem), fsyncs it, renames it to its content
//     address (rename is atomic on POSIX) and fsyncs the directory, so after a
//     crash the artifact is either absent or complete. A crash can leave a
//     stale <dir>/.tmp/put-* file: garbage, removable when no Put is running.
//   - S3: Put spools the reader through sha256 into a local temporary file
//     (S3Options.SpoolDir), then uploads that file with one PutObject to its
//     final key. An S3 PUT (or a completed multipart upload) is atomic: the
//     key shows the old object, none, or the whole new one. Knowing the hash
//     before any byte leaves the machine means a duplicate Put costs one HEAD
//     and no upload, no temporary objects are ever left in the bucket by a
//     crash (an aborted multipart upload is aborted by the client, or reaped by
//     the bucket's lifecycle rule for incomplete uploads), and there is no
//     server-side copy (which would double the server's writes and is limited
//     to 5 GiB per CopyObject). The price is local disk for the spool file,
//     the size of the artifact, deleted when Put returns. Over plain HTTP the
//     upload is signed chunk by chunk (aws-chunked), over HTTPS it is
//     protected by TLS.
//
// Putting the same bytes twice is harmless: Put finds the object at its
// address (same size) and returns the same Artifact without writing a second
// copy; two concurrent Puts of the same bytes both write the same bytes to the
// same address, and the last rename or PUT wins with identical content.
// Corruption after the fact (a disk, an operator, a bug elsewhere) is not
// prevented but detected: Open verifies the sha256 and the size while the
// caller reads, and reports a *MismatchError (errors.Is ErrCorrupt) at EOF
// instead of io.EOF.
//
// # Secrets
//
// The package never logs. S3Options' String, GoString and LogValue redact
// SecretKey, and no error this package builds contains it.
package artifacts
