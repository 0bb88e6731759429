package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TenantSetting is the session setting WithTenant sets. Row-level security
// reads it only for the trusted roles (the migration role, which owns the
// tables, and thunderline_system); an engine role's tenant is its login's
// binding in tenant_roles (migrations/0006_tenancy.sql).
const TenantSetting = "thunderline.tenant"

// ErrNoTenant is returned by WithTenant for an empty tenant.
var ErrNoTenant = errors.New("postgres: empty tenant")

// ErrWrongTenant: the login role is bound (tenant_roles) to another tenant
// than the one the profile names.
var ErrWrongTenant = errors.New("postgres: role bound to another tenant")

// ErrUnboundRole: the login role has no tenant_roles binding and is not a
// trusted role, so row-level security shows it no row and lets it write
// none.
var ErrUnboundRole = errors.New("postgres: role bound to no tenant")

// WithTenant scopes tx to tenant: until the transaction ends, every tenant
// table shows only that tenant's rows and accepts only rows of it
// (set_config(..., true), the function form of SET LOCAL, so the value
// never leaks to the next user of the pooled connection). For a tenant
// login role the setting changes nothing: its binding decides.
func WithTenant(ctx context.Context, tx pgx.Tx, tenant string) error {
	if tenant == "" {
		return ErrNoTenant
	}
	if _, err := tx.Exec(ctx, "SELECT set_config($1, $2, true)", TenantSetting, tenant); err != nil {
		return fmt.Errorf("set tenant %q: %w", tenant, err)
	}
	return nil
}

// CheckTenant makes sure pool's login may act for tenant: a role bound to
// another tenant gets ErrWrongTenant, an engine role bound to none
// ErrUnboundRole (both name the role and the tenants). The trusted roles
// pass with any tenant (WithTenant chooses it per transaction).
func CheckTenant(ctx context.Context, pool *pgxpool.Pool, tenant string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return checkTenantTx(ctx, tx, tenant) })
}

// checkTenantTx sets tenant on tx (WithTenant) and checks the session's
// effective tenant is it.
func checkTenantTx(ctx context.Context, tx pgx.Tx, tenant string) error {
	if err := WithTenant(ctx, tx, tenant); err != nil {
		return err
	}
	var role string
	var bound, effective *string
	if err := tx.QueryRow(ctx, "SELECT session_user::text, thunderline_bound_tenant(), thunderline_tenant()").
		Scan(&role, &bound, &effective); err != nil {
		return fmt.Errorf("postgres: tenant of the session: %w", err)
	}
	switch {
	case effective != nil && *effective == tenant:
		return nil
	case bound != nil:
		return fmt.Errorf("%w: role %q is bound to tenant %q, the profile names %q", ErrWrongTenant, role, *bound, tenant)
	default:
		return fmt.Errorf("%w: role %q has no row in tenant_roles (tenant %q)", ErrUnboundRole, role, tenant)
	}
}
