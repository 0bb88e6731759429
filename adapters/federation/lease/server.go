package lease

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// Store is where leases live (Postgres in the engine). Claim marks lease
// leaseID claimed by clientID and returns its manifest, unsigned. It is
// idempotent: a repeated claim by the same client returns the same lease.
// It fails with an error wrapping ErrLeaseNotFound, ErrLeaseForbidden (the
// lease is another client's) or ErrLeaseExpired.
type Store interface {
	Claim(ctx context.Context, leaseID, clientID string) (Manifest, error)
}

// Errors a Store returns, mapped to HTTP statuses by the Server.
var (
	ErrLeaseNotFound  = errors.New("lease not found")         // 404
	ErrLeaseForbidden = errors.New("lease of another client") // 403
	ErrLeaseExpired   = errors.New("lease expired")           // 410
)

// Server is the pull-only lease endpoint, served over mutual TLS
// (PKI.ServerTLSConfig):
//
//	POST /leases/{id}/claim  → 200 {"manifest": "<compact JWS>"}
//	GET  /jwks               → 200 the signer's public keys
//
// The client's identity is the CN of its verified certificate, nothing
// else. Errors are {"code", "message"} JSON. It only answers; it never
// calls a client.
type Server struct {
	store  Store
	signer *Signer
	log    *slog.Logger
	mux    *http.ServeMux
}

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithLogger logs store failures to l [discarded]. The server logs lease
// and client ids and errors, never a manifest token or a key.
func WithLogger(l *slog.Logger) ServerOption { return func(s *Server) { s.log = l } }

// NewServer serves store's leases, signing manifests with signer.
func NewServer(store Store, signer *Signer, opts ...ServerOption) *Server {
	s := &Server{store: store, signer: signer, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/leases/{id}/claim", s.claim)
	s.mux.HandleFunc("/jwks", s.jwks)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ClientIdentity is the CN of the verified client certificate of r, or
// false when r carries none (no TLS, or no verified chain). Headers play
// no part.
func ClientIdentity(r *http.Request) (string, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return "", false
	}
	cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
	return cn, ValidClientID(cn)
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	clientID, ok := ClientIdentity(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "a verified client certificate with a valid CN is required")
		return
	}
	leaseID := r.PathValue("id")
	if len(leaseID) == 0 || len(leaseID) > maxField {
		writeError(w, http.StatusNotFound, "not_found", "no such lease")
		return
	}
	// The request has no body; drain a little so the connection can be reused.
	_, _ = io.CopyN(io.Discard, r.Body, 4<<10)

	m, err := s.store.Claim(r.Context(), leaseID, clientID)
	switch {
	case errors.Is(err, ErrLeaseNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such lease")
		return
	case errors.Is(err, ErrLeaseForbidden):
		writeError(w, http.StatusForbidden, "forbidden", "the lease belongs to another client")
		return
	case errors.Is(err, ErrLeaseExpired):
		writeError(w, http.StatusGone, "lease_expired", "the lease has expired")
		return
	case err != nil:
		s.log.Error("lease claim failed", "lease_id", leaseID, "client_id", clientID, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "claim failed")
		return
	}
	if m.LeaseID != leaseID || m.ClientID != clientID {
		// A store bug must not hand one client another's manifest.
		s.log.Error("lease store returned another lease", "lease_id", leaseID, "client_id", clientID,
			"got_lease_id", m.LeaseID, "got_client_id", m.ClientID)
		writeError(w, http.StatusInternalServerError, "internal", "claim failed")
		return
	}
	now := s.signer.now()
	if !now.Before(m.ExpiresAt) {
		writeError(w, http.StatusGone, "lease_expired", "the lease has expired")
		return
	}
	// The manifest is a short-lived identity: issued now, valid for at most
	// the signer's ttl, never past the lease. A client claims again (the
	// claim is idempotent) for a fresh one.
	m.IssuedAt = now
	if limit := now.Add(s.signer.TTL()); m.ExpiresAt.After(limit) {
		m.ExpiresAt = limit
	}
	token, err := s.signer.Sign(m)
	if err != nil {
		s.log.Error("lease manifest signing failed", "lease_id", leaseID, "client_id", clientID, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "claim failed")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, "application/json", struct {
		Manifest string `json:"manifest"`
	}{token})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
		return
	}
	// Keys rotate, and a fresh manifest may carry a key made a moment ago.
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, "application/jwk-set+json", s.signer.JWKS())
}

// Error is the body of every error response.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, "application/json", Error{Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"internal","message":"encode response"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
