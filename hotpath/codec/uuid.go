package codec

// UUID8 is the id derived from a sha256 sum of an encoding: its first 16
// bytes as a UUID of version 8 (RFC 9562, custom), variant RFC 9562. The
// same encoding gives the same id in every run.
func UUID8(sum [32]byte) [16]byte {
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x80 // version 8
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}
