package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Lease is a client_leases row.
type Lease struct {
	ID, FederationID, ClientID, ManifestURI string
	ExpiresAt                               time.Time
	EpochsMax                               int   // 0: no limit
	TokensMax                               int64 // 0: no limit
	Status                                  string
	IssuedAt                                time.Time
	ClaimedAt, JoinedAt, EndedAt            *time.Time
	Reason                                  string // why it was dropped
}

const leaseCols = `id, federation_id, client_id, manifest_uri, lease_expires_at, epochs_max, tokens_max, status,
	issued_at, claimed_at, joined_at, ended_at, coalesce(reason, '')`

// leaseDest is where the columns of leaseCols scan to.
func leaseDest(x *Lease) []any {
	return []any{&x.ID, &x.FederationID, &x.ClientID, &x.ManifestURI, &x.ExpiresAt, &x.EpochsMax, &x.TokensMax, &x.Status,
		&x.IssuedAt, &x.ClaimedAt, &x.JoinedAt, &x.EndedAt, &x.Reason}
}

func scanLease(r pgx.Row) (Lease, error) {
	var x Lease
	err := r.Scan(leaseDest(&x)...)
	return x, err
}

// IssueLease offers clientID a lease on a created or started federation,
// until expires (after now); epochsMax and tokensMax bound its training
// (0: no limit). A client has at most one lease per federation (ErrExists).
func (f *FL) IssueLease(ctx context.Context, fedID, clientID, manifestURI string, expires time.Time, epochsMax int, tokensMax int64) (Lease, error) {
	var out Lease
	switch {
	case clientID == "":
		return out, errors.New("issue lease: empty client id")
	case manifestURI == "":
		return out, errors.New("issue lease: empty manifest uri")
	case epochsMax < 0 || tokensMax < 0:
		return out, fmt.Errorf("issue lease: epochs_max %d, tokens_max %d: must not be negative", epochsMax, tokensMax)
	}
	err := f.change(ctx, "issue lease", func(tx pgx.Tx, now time.Time) ([]event, error) {
		if !expires.After(now) {
			return nil, fmt.Errorf("expiry %v is not after now (%v)", expires, now)
		}
		fed, err := lockFederation(ctx, tx, fedID, true)
		if err != nil {
			return nil, err
		}
		if err := activeFederation(fed, FederationCreated, FederationStarted); err != nil {
			return nil, err
		}
		out, err = scanLease(tx.QueryRow(ctx, `INSERT INTO client_leases (tenant_id, federation_id, client_id, manifest_uri,
			lease_expires_at, epochs_max, tokens_max, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+leaseCols,
			f.tenant, fedID, clientID, manifestURI, expires, epochsMax, tokensMax, now))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return nil, fmt.Errorf("client %q has a lease on federation %s: %w", clientID, fedID, ErrExists)
		}
		if err != nil {
			return nil, err
		}
		return []event{{TopicLeaseIssued, eventPayload{FederationID: fedID, LeaseID: out.ID, ClientID: clientID,
			Status: out.Status, ExpiresAt: &out.ExpiresAt}}}, nil
	})
	return out, err
}

// lockLease reads a lease and its federation's status, and locks the lease.
func lockLease(ctx context.Context, tx pgx.Tx, id string) (Lease, Federation, error) {
	var fed Federation
	var l Lease
	err := tx.QueryRow(ctx, `SELECT `+leaseCols+`, (SELECT status FROM federations f WHERE f.tenant_id = l.tenant_id AND f.id = l.federation_id)
		FROM client_leases l WHERE id = $1 FOR UPDATE`, id).Scan(append(leaseDest(&l), &fed.Status)...)
	fed.ID = l.FederationID
	return l, fed, notFound(err, "lease", id)
}

// leaseMove is one status change of a lease.
type leaseMove struct {
	what, to, topic string
	at              string // the timestamp column it sets
	// client, when set, is the client the lease must be of
	// (ErrLeaseTaken); with idempotent, a lease of that client already at
	// to is returned unchanged, with no event.
	client     string
	idempotent bool
	// expiring is the status in which the lease expires at its expiry
	// (ErrLeaseExpired, as an expired lease); "": it does not matter.
	expiring string
	// feds are the statuses the federation must be in (none: any).
	feds   []string
	reason string // why it was dropped
}

// moveLease locks lease id and makes the move m.
func (f *FL) moveLease(ctx context.Context, id string, m leaseMove) (Lease, error) {
	var out Lease
	err := f.change(ctx, m.what, func(tx pgx.Tx, now time.Time) ([]event, error) {
		l, fed, err := lockLease(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		switch {
		case m.client != "" && l.ClientID != m.client:
			return nil, fmt.Errorf("lease %s: %w", id, ErrLeaseTaken)
		case m.idempotent && l.Status == m.to:
			out = l // this client's already: no change, no event
			return nil, nil
		case m.expiring != "" && (l.Status == LeaseExpired || (l.Status == m.expiring && !now.Before(l.ExpiresAt))):
			return nil, fmt.Errorf("lease %s expired at %v: %w", id, l.ExpiresAt, ErrLeaseExpired)
		}
		if err := move("lease", id, l.Status, m.to); err != nil {
			return nil, err
		}
		if len(m.feds) > 0 {
			if err := activeFederation(fed, m.feds...); err != nil {
				return nil, err
			}
		}
		out, err = scanLease(tx.QueryRow(ctx, `UPDATE client_leases SET status = $2, `+m.at+` = $3, reason = nullif($4, '')
			WHERE id = $1 RETURNING `+leaseCols, id, m.to, now, m.reason))
		if err != nil {
			return nil, err
		}
		return []event{{m.topic, eventPayload{FederationID: l.FederationID, LeaseID: id, ClientID: l.ClientID,
			Status: out.Status, From: l.Status, Reason: m.reason}}}, nil
	})
	return out, err
}

// ClaimLease claims an issued lease for its client. Idempotent: claiming a
// lease the same client has claimed returns it unchanged and writes
// nothing. Another client's lease is ErrLeaseTaken; an expired lease, or
// one past its expiry, ErrLeaseExpired.
func (f *FL) ClaimLease(ctx context.Context, leaseID, clientID string) (Lease, error) {
	return f.moveLease(ctx, leaseID, leaseMove{what: "claim lease", to: LeaseClaimed, topic: TopicLeaseClaimed,
		at: "claimed_at", client: clientID, idempotent: true, expiring: LeaseIssued,
		feds: []string{FederationCreated, FederationStarted}})
}

// JoinClient records that the client of a claimed lease joined the started
// federation (before the lease's expiry).
func (f *FL) JoinClient(ctx context.Context, leaseID, clientID string) (Lease, error) {
	return f.moveLease(ctx, leaseID, leaseMove{what: "join client", to: LeaseJoined, topic: TopicClientJoined,
		at: "joined_at", client: clientID, expiring: LeaseClaimed, feds: []string{FederationStarted}})
}

// DropClient records that a joined client left or was cut off, and why.
func (f *FL) DropClient(ctx context.Context, leaseID, reason string) (Lease, error) {
	if reason == "" {
		reason = "unspecified"
	}
	return f.moveLease(ctx, leaseID, leaseMove{what: "drop client", to: LeaseDropped, topic: TopicClientDropped,
		at: "ended_at", reason: reason})
}

// CompleteLease records that a joined client finished its part.
func (f *FL) CompleteLease(ctx context.Context, leaseID string) (Lease, error) {
	return f.moveLease(ctx, leaseID, leaseMove{what: "complete lease", to: LeaseCompleted, topic: TopicClientCompleted,
		at: "ended_at"})
}

// ExpireLeases moves the issued and claimed leases of a federation that are
// past their expiry to expired (one event each) and returns them. Run it
// from a timer.
func (f *FL) ExpireLeases(ctx context.Context, fedID string) ([]Lease, error) {
	var out []Lease
	err := f.change(ctx, "expire leases", func(tx pgx.Tx, now time.Time) ([]event, error) {
		// RETURNING has no order: leases (and events) in the order they
		// were issued.
		rows, err := tx.Query(ctx, `WITH old AS (
				SELECT id, status FROM client_leases WHERE federation_id = $1 AND status IN ($2, $3) AND lease_expires_at <= $4
				FOR UPDATE),
			expired AS (
				UPDATE client_leases l SET status = $5, ended_at = $4 FROM old WHERE l.id = old.id
				RETURNING l.*, old.status AS was)
			SELECT `+leaseCols+`, was FROM expired ORDER BY issued_at, id`, fedID, LeaseIssued, LeaseClaimed, now, LeaseExpired)
		if err != nil {
			return nil, err
		}
		var evs []event
		out = []Lease{}
		for rows.Next() {
			var l Lease
			var was string
			if err := rows.Scan(append(leaseDest(&l), &was)...); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, l)
			evs = append(evs, event{TopicLeaseExpired, eventPayload{FederationID: fedID, LeaseID: l.ID, ClientID: l.ClientID,
				Status: l.Status, From: was}})
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return evs, nil
	})
	if err != nil {
		return nil, err // rolled back: none expired
	}
	return out, nil
}

// GetLease returns one lease.
func (f *FL) GetLease(ctx context.Context, id string) (Lease, error) {
	return get(ctx, f, "lease", "SELECT "+leaseCols+" FROM client_leases WHERE id = $1", id, scanLease)
}

// ListLeases returns a federation's leases in the order they were issued.
func (f *FL) ListLeases(ctx context.Context, fedID string) ([]Lease, error) {
	return list(ctx, f, "list leases", "SELECT "+leaseCols+" FROM client_leases WHERE federation_id = $1 ORDER BY issued_at, id", scanLease, fedID)
}
