package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// TenantSetting is the session setting the row-level security policies
// compare tenant_id with.
const TenantSetting = "thunderline.tenant"

// ErrNoTenant is returned by WithTenant for an empty tenant.
var ErrNoTenant = errors.New("postgres: empty tenant")

// WithTenant scopes tx to tenant: until the transaction ends, every tenant
// table shows only that tenant's rows and accepts only rows of it
// (set_config(..., true), the function form of SET LOCAL, so the value
// never leaks to the next user of the pooled connection).
func WithTenant(ctx context.Context, tx pgx.Tx, tenant string) error {
	if tenant == "" {
		return ErrNoTenant
	}
	if _, err := tx.Exec(ctx, "SELECT set_config($1, $2, true)", TenantSetting, tenant); err != nil {
		return fmt.Errorf("set tenant %q: %w", tenant, err)
	}
	return nil
}
