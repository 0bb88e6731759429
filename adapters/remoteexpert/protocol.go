package remoteexpert

import (
	"encoding/binary"
	"errors"
	"math"
	"unicode/utf8"

	"thunderline/hotpath/expert"
)

// Protocol version 1. See doc.go for the byte layout.
const (
	Version = 1

	typeHello      = 1
	typeHelloReply = 2
	typeEval       = 3
	typeReply      = 4

	// MaxFrame is the largest frame body either side accepts.
	MaxFrame = 1 << 20

	helloLen       = 4
	helloReplyHdr  = 12
	evalHdr        = 28
	replyHdr       = 28
	flagAbstain    = 1
	maxNameLen     = 1024
	maxDim         = (MaxFrame - evalHdr) / 8
	scoreTolerance = 1e-3
)

// Decoding errors. They are preallocated so the client's reply path does
// not allocate even when it fails.
var (
	errVersion  = errors.New("unsupported protocol version")
	errType     = errors.New("unexpected message type")
	errLength   = errors.New("frame length does not match its contents")
	errTooLarge = errors.New("frame over MaxFrame")
	errID       = errors.New("reply id does not match the request")
	errHidden   = errors.New("reply hidden length does not match the expert's output dim")
	errValue    = errors.New("reply value out of range (NaN, Inf, confidence outside [0,1] or scores not a distribution)")
	errName     = errors.New("bad expert name in hello reply")
)

func putF32(b []byte, v float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(v)) }
func getF32(b []byte) float32    { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }

// appendHello appends a framed Hello.
func appendHello(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, helloLen)
	return append(b, Version, typeHello, 0, 0)
}

// appendHelloReply appends a framed HelloReply.
func appendHelloReply(b []byte, name string, in, out int) []byte {
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(helloReplyHdr+len(name)))
	b = append(b, Version, typeHelloReply)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
	b = binary.LittleEndian.AppendUint32(b, uint32(in))
	b = binary.LittleEndian.AppendUint32(b, uint32(out))
	return append(b, name...)
}

// decodeHelloReply decodes a HelloReply body.
func decodeHelloReply(body []byte) (name string, in, out int, err error) {
	if len(body) < helloReplyHdr {
		return "", 0, 0, errLength
	}
	if body[0] != Version {
		return "", 0, 0, errVersion
	}
	if body[1] != typeHelloReply {
		return "", 0, 0, errType
	}
	n := int(binary.LittleEndian.Uint16(body[2:]))
	if len(body) != helloReplyHdr+n {
		return "", 0, 0, errLength
	}
	in = int(binary.LittleEndian.Uint32(body[4:]))
	out = int(binary.LittleEndian.Uint32(body[8:]))
	name = string(body[helloReplyHdr:])
	if n > maxNameLen || !utf8.ValidString(name) || in > maxDim || out > maxDim {
		return "", 0, 0, errName
	}
	return name, in, out, nil
}

// evalLen is the body length of an Eval request.
func evalLen(nfeat, ndim int) int { return evalHdr + 8*nfeat + 4*ndim }

// putEval writes a framed Eval request into b, which must hold
// 4+evalLen(len(in.Features), len(in.Embedding)) bytes, and returns the
// frame.
func putEval(b []byte, id uint32, in *expert.Input) []byte {
	n := evalLen(len(in.Features), len(in.Embedding))
	b = b[:4+n]
	binary.LittleEndian.PutUint32(b, uint32(n))
	p := b[4:]
	p[0], p[1], p[2], p[3] = Version, typeEval, 0, 0
	binary.LittleEndian.PutUint32(p[4:], id)
	binary.LittleEndian.PutUint32(p[8:], in.Symbol)
	binary.LittleEndian.PutUint64(p[12:], uint64(in.End))
	binary.LittleEndian.PutUint32(p[20:], uint32(len(in.Features)))
	binary.LittleEndian.PutUint32(p[24:], uint32(len(in.Embedding)))
	o := evalHdr
	for _, f := range in.Features {
		binary.LittleEndian.PutUint64(p[o:], math.Float64bits(f))
		o += 8
	}
	for _, v := range in.Embedding {
		putF32(p[o:], v)
		o += 4
	}
	return b
}

// decodeEval decodes an Eval body into in, growing *feats and *emb (the
// server's per-connection buffers) only when a request is larger than any
// before.
func decodeEval(body []byte, in *expert.Input, feats *[]float64, emb *[]float32) (id uint32, err error) {
	if len(body) < evalHdr {
		return 0, errLength
	}
	if body[0] != Version {
		return 0, errVersion
	}
	if body[1] != typeEval {
		return 0, errType
	}
	id = binary.LittleEndian.Uint32(body[4:])
	nf := uint64(binary.LittleEndian.Uint32(body[20:]))
	nd := uint64(binary.LittleEndian.Uint32(body[24:]))
	if uint64(len(body)) != evalHdr+8*nf+4*nd {
		return 0, errLength
	}
	if cap(*feats) < int(nf) {
		*feats = make([]float64, nf)
	}
	if cap(*emb) < int(nd) {
		*emb = make([]float32, nd)
	}
	f, e := (*feats)[:nf], (*emb)[:nd]
	o := evalHdr
	for i := range f {
		f[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[o:]))
		o += 8
	}
	for i := range e {
		e[i] = getF32(body[o:])
		o += 4
	}
	*in = expert.Input{
		Features:  f,
		Embedding: e,
		Symbol:    binary.LittleEndian.Uint32(body[8:]),
		End:       int64(binary.LittleEndian.Uint64(body[12:])),
	}
	return id, nil
}

// replyLen is the body length of a Reply with n hidden values.
func replyLen(n int) int { return replyHdr + 4*n }

// putReply writes a framed Reply into b (which must hold
// 4+replyLen(nhidden) bytes) and returns the frame.
func putReply(b []byte, id uint32, out *expert.Output, nhidden int) []byte {
	n := replyLen(nhidden)
	b = b[:4+n]
	binary.LittleEndian.PutUint32(b, uint32(n))
	p := b[4:]
	var flags byte
	if out.Abstain {
		flags |= flagAbstain
	}
	p[0], p[1], p[2], p[3] = Version, typeReply, flags, 0
	binary.LittleEndian.PutUint32(p[4:], id)
	putF32(p[8:], out.Confidence)
	for k, s := range out.Scores {
		putF32(p[12+4*k:], s)
	}
	binary.LittleEndian.PutUint32(p[24:], uint32(nhidden))
	for j := range nhidden {
		var v float32
		if j < len(out.Hidden) {
			v = out.Hidden[j]
		}
		putF32(p[replyHdr+4*j:], v)
	}
	return b
}

// decodeReply decodes and checks a Reply body for request id from an
// expert with output dim outDim (0 for an action head) into out. A reply
// with the abstain flag sets the neutral abstention whatever its values.
// It does not allocate.
func decodeReply(body []byte, id uint32, outDim int, out *expert.Output) error {
	if len(body) < replyHdr {
		return errLength
	}
	if body[0] != Version {
		return errVersion
	}
	if body[1] != typeReply {
		return errType
	}
	if binary.LittleEndian.Uint32(body[4:]) != id {
		return errID
	}
	n := binary.LittleEndian.Uint32(body[24:])
	if uint64(len(body)) != replyHdr+4*uint64(n) {
		return errLength
	}
	if int(n) != outDim || len(out.Hidden) < outDim {
		return errHidden
	}
	if body[2]&flagAbstain != 0 {
		out.SetAbstain()
		return nil
	}
	conf := getF32(body[8:])
	if !(conf >= 0 && conf <= 1) {
		return errValue
	}
	var scores [expert.NumActions]float32
	var sum float32
	for k := range scores {
		s := getF32(body[12+4*k:])
		if !(s >= 0 && s <= 1) {
			return errValue
		}
		scores[k] = s
		sum += s
	}
	if outDim == 0 && !(sum > 1-scoreTolerance && sum < 1+scoreTolerance) {
		return errValue
	}
	for j := range outDim {
		v := getF32(body[replyHdr+4*j:])
		if v-v != 0 {
			return errValue
		}
		out.Hidden[j] = v
	}
	out.Scores, out.Confidence, out.Abstain = scores, conf, false
	return nil
}
