// Package safetensors reads and writes the safetensors tensor format and
// loads MLP experts from it.
//
// The format: 8 bytes holding N, a little-endian uint64; N bytes of UTF-8
// JSON, a map from tensor name to {"dtype", "shape", "data_offsets"} with
// an optional "__metadata__" map of strings; then the byte buffer, in which
// each tensor is the little-endian, row-major (C order) run of bytes
// [begin, end) given by its data_offsets.
//
// Parse and Load validate everything the reference implementation
// (huggingface/safetensors) does and a little more: the header size limit
// (MaxHeaderSize), UTF-8, a JSON object starting with '{', known dtypes,
// exactly the three fields per tensor, shape × dtype size = byte length
// without overflow, offsets inside the buffer, tensors that tile the
// buffer with no overlap, gap or trailing bytes, and no duplicate tensor
// names or metadata keys. Every failure is an *Error that names the tensor
// and the problem and wraps a sentinel (ErrTruncated, ErrHeaderTooLarge,
// ErrHeader, ErrTensor, ErrNotFound, ErrDType); no input makes the package
// panic (FuzzParse).
//
// Load and LoadMLP read only regular files (a FIFO, /dev/zero or a
// directory is refused before it is opened), at most LoadOptions.MaxBytes
// (default DefaultMaxFileSize, 256 MiB), optionally confined to
// LoadOptions.Dir (the models directory); their errors, and Parse's, echo
// nothing of a file's bytes until its header is a JSON object.
//
// File.Tensor converts F32, F64, F16 and BF16 tensors to float32; the other
// dtypes are parsed and validated, and readable as bytes with File.Raw.
// Write produces the byte layout of the reference writer (tested byte for
// byte against safetensors 0.4.5, and read back by it); LoadMLP and
// MLPTensors map an expert.MLP to tensors named <prefix>.w1, .b1, .w2, .b2
// (see mlp.go for the layout and the metadata keys).
//
// This package is an adapter: it runs when an expert is loaded, never per
// tick, and allocates freely.
package safetensors
