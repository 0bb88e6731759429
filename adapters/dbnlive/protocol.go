package dbnlive

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MaxLine bounds a control line (the handshake and the subscriptions).
const MaxLine = 4096

// Errors of the handshake, for errors.Is.
var (
	ErrProtocol = errors.New("dbnlive: protocol error")
	ErrAuth     = errors.New("dbnlive: authentication refused")
)

// readLine reads one '\n'-terminated control line of at most MaxLine bytes
// (without the newline).
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxLine {
			return "", fmt.Errorf("%w: a control line longer than %d bytes", ErrProtocol, MaxLine)
		}
		if err == nil {
			return string(bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))), nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(line) > 0 {
			return "", fmt.Errorf("%w: a control line cut off after %d bytes: %v", ErrProtocol, len(line), err)
		}
		return "", err
	}
}

// Fields parses a control line: key=value pairs separated by '|'. A pair
// without '=' or an empty key is an error naming it.
func Fields(line string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range strings.Split(line, "|") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q in line %q is not key=value", ErrProtocol, p, clip(line))
		}
		m[k] = v
	}
	return m, nil
}

// AuthResponse is the answer to challenge cram with API key key:
// sha256(cram + "|" + key) in hex, "-", the key's last five characters.
func AuthResponse(cram, key string) string {
	sum := sha256.Sum256([]byte(cram + "|" + key))
	return hex.EncodeToString(sum[:]) + "-" + BucketID(key)
}

// BucketID is the last five characters of key (sent in clear by the
// protocol; the only part of a key errors show).
func BucketID(key string) string {
	if len(key) < 5 {
		return key
	}
	return key[len(key)-5:]
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
