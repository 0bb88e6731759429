package edgar

import (
	"encoding/binary"
	"fmt"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/adapters/edgar/source"
	"thunderline/engine/runjournal"
	"thunderline/persist/journal"
)

// The filings path's own journal records: the raw documents as received
// (in chunks), the documents that could not be read, and the parsed
// EDGARDocs, cut to fit a record.

// rawChunk is the largest slice of a raw document in one journal record.
const rawChunk = 8 << 20

// journalRaw journals a document's bytes as received, in chunks.
func (r *run) journalRaw(inseq uint64, d *source.Doc) {
	if r.jour == nil {
		return
	}
	chunks := max(1, (len(d.Body)+rawChunk-1)/rawChunk)
	for c := 0; c < chunks; c++ {
		part := d.Body[c*rawChunk : min(len(d.Body), (c+1)*rawChunk)]
		r.buf = appendRaw(r.buf[:0], inseq, uint32(c), uint32(chunks), d, part)
		r.append(runjournal.RecEdgarRaw, r.buf)
	}
}

func appendRaw(dst []byte, inseq uint64, chunk, chunks uint32, d *source.Doc, part []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, inseq)
	dst = binary.LittleEndian.AppendUint32(dst, chunk)
	dst = binary.LittleEndian.AppendUint32(dst, chunks)
	dst = append(dst, uint8(d.Kind))
	name := d.Name
	if len(name) > 1<<16-1 {
		name = name[:1<<16-1]
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(name)))
	dst = append(dst, name...)
	return append(dst, part...)
}

// rawRecord is one decoded runjournal.RecEdgarRaw record.
type rawRecord struct {
	inseq         uint64
	chunk, chunks uint32
	kind          source.Kind
	name          string
	data          []byte
}

func decodeRaw(b []byte) (rawRecord, error) {
	if len(b) < 19 {
		return rawRecord{}, fmt.Errorf("edgar_raw record of %d bytes: want at least 19", len(b))
	}
	r := rawRecord{inseq: binary.LittleEndian.Uint64(b), chunk: binary.LittleEndian.Uint32(b[8:]),
		chunks: binary.LittleEndian.Uint32(b[12:]), kind: source.Kind(b[16])}
	n := int(binary.LittleEndian.Uint16(b[17:]))
	if len(b) < 19+n {
		return rawRecord{}, fmt.Errorf("edgar_raw record: name of %d bytes, %d left", n, len(b)-19)
	}
	if r.chunks == 0 || r.chunk >= r.chunks {
		return rawRecord{}, fmt.Errorf("edgar_raw record: chunk %d of %d", r.chunk, r.chunks)
	}
	r.name, r.data = string(b[19:19+n]), b[19+n:]
	return r, nil
}

func appendReject(dst []byte, inseq uint64, rej *Reject) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, inseq)
	for _, s := range [...]string{rej.Name, rej.Kind, rej.Reason} {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// docRecord encodes an EDGARDoc for the journal; a document too large for
// one record keeps its facts and section texts up to the limit, and says
// so in its issues (the raw bytes are journaled whole).
func (r *run) docRecord(d *edgarrec.Doc) []byte {
	enc := edgarrec.AppendDoc(r.buf[:0], d)
	const limit = journal.MaxPayload - 64<<10
	for len(enc) > limit {
		switch {
		case len(d.Facts) > 0:
			n := len(d.Facts) / 2
			d.Issues = append(d.Issues, fmt.Sprintf("journal record: facts cut from %d to %d (record limit %d bytes; raw document journaled whole)", len(d.Facts), n, limit))
			d.Facts = d.Facts[:n]
		case len(d.Sections) > 0:
			d.Issues = append(d.Issues, fmt.Sprintf("journal record: %d section texts dropped (record limit; raw document journaled whole)", len(d.Sections)))
			for i := range d.Sections {
				d.Sections[i].Text = ""
			}
		default:
			return enc // cannot shrink: Append reports it
		}
		enc = edgarrec.AppendDoc(r.buf[:0], d)
	}
	r.buf = enc
	return enc
}
