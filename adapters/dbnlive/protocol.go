package dbnlive

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxLine bounds a control line (the handshake and the subscriptions).
const MaxLine = 4096

// symbolsPerLine is how many symbols one subscription line carries; a
// longer list goes in several lines, the last marked is_last=1 (Databento's
// own clients send 500 a line to stay within the gateway's line limit).
const symbolsPerLine = 500

// clientName is what the auth line's client= field says.
const clientName = "thunderline"

// Errors of the handshake, for errors.Is.
var (
	// ErrProtocol: a control line that is not what the protocol says —
	// missing, cut off, too long, not key=value, or the wrong line.
	ErrProtocol = errors.New("dbnlive: protocol error")
	// ErrAuth: the gateway refused the session (success=0), or, on the
	// server side, a client's answer or dataset was wrong.
	ErrAuth = errors.New("dbnlive: authentication refused")
)

// readLine reads one '\n'-terminated control line of at most MaxLine bytes
// (without the newline, and without a '\r' before it).
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if n := len(line); n > MaxLine && (err != nil || n-1 > MaxLine) { // the '\n' is not counted
			return "", fmt.Errorf("%w: a control line longer than %d bytes", ErrProtocol, MaxLine)
		}
		if err == nil {
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return string(line), nil
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
// without '=', or with an empty key, is an error naming it.
func Fields(line string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range strings.Split(line, "|") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q in line %q is not key=value", ErrProtocol, clip(p), clip(line))
		}
		m[k] = v
	}
	return m, nil
}

// AuthResponse is the answer to challenge cram with API key key:
// sha256(cram + "|" + key) in lowercase hex, "-", the key's last five
// characters (its bucket id).
func AuthResponse(cram, key string) string {
	sum := sha256.Sum256([]byte(cram + "|" + key))
	return hex.EncodeToString(sum[:]) + "-" + BucketID(key)
}

// BucketID is the last five characters of key: sent in clear by the
// protocol, and the only part of a key errors and logs show.
func BucketID(key string) string {
	if len(key) < 5 {
		return key
	}
	return key[len(key)-5:]
}

// authLine is the client's answer to the challenge, with the session's
// options: plain DBN (no compression), no ts_out, and the heartbeat
// interval when one is asked for.
func authLine(cram string, cfg Config) string {
	s := "auth=" + AuthResponse(cram, cfg.Key) + "|dataset=" + cfg.Dataset +
		"|encoding=dbn|compression=none|ts_out=0|client=" + clientName
	if cfg.Heartbeat > 0 {
		s += "|heartbeat_interval_s=" + strconv.Itoa(int(cfg.Heartbeat.Seconds()))
	}
	return s + "\n"
}

// subscriptionLines are the subscription of cfg, symbolsPerLine symbols a
// line, the last line marked is_last=1, then start_session.
func subscriptionLines(cfg Config) string {
	var b strings.Builder
	syms := cfg.Symbols
	for first := true; first || len(syms) > 0; first = false {
		n := min(len(syms), symbolsPerLine)
		last := 0
		if n == len(syms) {
			last = 1
		}
		fmt.Fprintf(&b, "schema=%s|stype_in=%s|symbols=%s|snapshot=0|is_last=%d", cfg.Schema, cfg.SType, strings.Join(syms[:n], ","), last)
		if cfg.Replay {
			fmt.Fprintf(&b, "|start=%d", cfg.Start)
		}
		b.WriteByte('\n')
		syms = syms[n:]
	}
	b.WriteString("start_session\n")
	return b.String()
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
