package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TickFile is a row of tick_files: one Parquet file of raw ticks
// (persist/tickarchive) in the artifact store.
type TickFile struct {
	JournalID               string
	FirstOffset, LastOffset uint64
	Symbols                 []string
	TsFrom, TsTo            int64 // ns since the epoch
	Rows, Bytes             int64
	SHA256                  [32]byte
	URI                     string
}

const insertTickFile = `INSERT INTO tick_files (journal_id, first_offset, last_offset, symbols, ts_from, ts_to, ts_from_ns, ts_to_ns,
	rows, bytes, sha256, uri) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`

func tickFileArgs(f *TickFile) []any {
	return []any{f.JournalID, int64(f.FirstOffset), int64(f.LastOffset), f.Symbols, nsTime(f.TsFrom), nsTime(f.TsTo),
		f.TsFrom, f.TsTo, f.Rows, f.Bytes, hex.EncodeToString(f.SHA256[:]), f.URI}
}

// TickFilesQuery finds the files holding a tenant's ticks of symbol with
// event times in [from, to]: the documented query (README "Raw ticks").
const TickFilesQuery = `SELECT uri, sha256, rows, bytes, ts_from_ns, ts_to_ns FROM tick_files
	WHERE symbols @> ARRAY[$1]::text[] AND ts_to >= $2 AND ts_from <= $3 ORDER BY ts_from, journal_id, first_offset`

// FindTickFiles runs TickFilesQuery as tenant (row-level security keeps
// other tenants' files out of sight).
func FindTickFiles(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, tenant, symbol string, from, to time.Time) ([]TickFile, error) {
	var out []TickFile
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, tenant); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, TickFilesQuery, symbol, from, to)
		if err != nil {
			return err
		}
		var f TickFile
		var sum string
		_, err = pgx.ForEachRow(rows, []any{&f.URI, &sum, &f.Rows, &f.Bytes, &f.TsFrom, &f.TsTo}, func() error {
			b, err := hex.DecodeString(sum)
			if err != nil || len(b) != 32 {
				return fmt.Errorf("tick_files: sha256 %q of %s", sum, f.URI)
			}
			copy(f.SHA256[:], b)
			out = append(out, f)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find tick files: %w", err)
	}
	return out, nil
}
