package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"thunderline/persist/artifacts"
	"thunderline/persist/tickarchive"
)

// TickFile is a row of tick_files: one Parquet file of raw ticks
// (persist/tickarchive) in the artifact store.
type TickFile struct {
	Tenant                  string // set by FindTickFiles; an insert takes the transaction's tenant
	JournalID               string
	FirstOffset, LastOffset uint64   // journal offsets of the file's ticks: lowest and highest
	Symbols                 []string // sorted, distinct
	TsFrom, TsTo            int64    // event times of the earliest and latest tick, ns since the epoch
	Rows, Bytes             int64
	SHA256                  [32]byte
	URI                     string
}

// TickFileOf is the tick_files row of archive file f of journal journalID,
// stored as a (tickarchive.Writer.Put returns both).
func TickFileOf(journalID string, f tickarchive.File, a artifacts.Artifact) TickFile {
	return TickFile{JournalID: journalID, FirstOffset: f.FirstOffset, LastOffset: f.LastOffset, Symbols: f.Symbols,
		TsFrom: f.TsFrom, TsTo: f.TsTo, Rows: int64(f.Rows), Bytes: f.Bytes, SHA256: a.SHA256, URI: a.URI}
}

// Validate reports the first bad field of f, by name.
func (f *TickFile) Validate() error {
	switch {
	case f.JournalID == "":
		return errors.New("TickFile.JournalID: required")
	case f.FirstOffset > f.LastOffset || f.LastOffset > 1<<63-1:
		return fmt.Errorf("TickFile.FirstOffset %d, LastOffset %d: want first ≤ last < 2^63", f.FirstOffset, f.LastOffset)
	case len(f.Symbols) == 0 || !slices.IsSorted(f.Symbols) || len(slices.Compact(slices.Clone(f.Symbols))) != len(f.Symbols):
		return fmt.Errorf("TickFile.Symbols %q: want sorted, distinct names, at least one", f.Symbols)
	case f.TsFrom > f.TsTo:
		return fmt.Errorf("TickFile.TsFrom %d after TsTo %d", f.TsFrom, f.TsTo)
	case f.Rows <= 0 || f.Bytes <= 0:
		return fmt.Errorf("TickFile.Rows %d, Bytes %d: want both > 0", f.Rows, f.Bytes)
	case f.SHA256 == [32]byte{}:
		return errors.New("TickFile.SHA256: required")
	case f.URI == "":
		return errors.New("TickFile.URI: required")
	}
	return nil
}

// ErrTickFileConflict is InsertTickFile's error for a journal range already
// listed with another file: the same ticks always make the same bytes, so
// this is a bug or two writers on one journal, never a retry.
var ErrTickFileConflict = errors.New("tick_files: another file is listed for this journal range")

const insertTickFile = `INSERT INTO tick_files (journal_id, first_offset, last_offset, symbols, ts_from, ts_to, ts_from_ns, ts_to_ns,
	rows, bytes, sha256, uri) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`

func tickFileArgs(f *TickFile) []any {
	return []any{f.JournalID, int64(f.FirstOffset), int64(f.LastOffset), f.Symbols, nsTime(f.TsFrom), nsTime(f.TsTo),
		f.TsFrom, f.TsTo, f.Rows, f.Bytes, hex.EncodeToString(f.SHA256[:]), f.URI}
}

// InsertTickFile lists f in tick_files inside the caller's transaction —
// the shipper's, which moves its journal offset in the same one, so a file
// is listed exactly when its ticks count as shipped. The row belongs to the
// transaction's tenant (thunderline_tenant(): a tenant login's binding, or
// WithTenant for the trusted roles). A retry that lists the same file
// again (same journal and first offset, same sha256) changes nothing and
// returns inserted false; another file for that range is
// ErrTickFileConflict.
func InsertTickFile(ctx context.Context, tx pgx.Tx, f *TickFile) (inserted bool, err error) {
	if err := f.Validate(); err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, insertTickFile, tickFileArgs(f)...)
	if err != nil {
		return false, fmt.Errorf("insert tick file %s: %w", f.URI, err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var sum string
	err = tx.QueryRow(ctx, "SELECT sha256 FROM tick_files WHERE journal_id = $1 AND first_offset = $2",
		f.JournalID, int64(f.FirstOffset)).Scan(&sum)
	if err != nil {
		return false, fmt.Errorf("insert tick file %s: the listed one: %w", f.URI, err)
	}
	if sum != hex.EncodeToString(f.SHA256[:]) {
		return false, fmt.Errorf("%w: journal %s from offset %d: listed sha256 %s, this one %x", ErrTickFileConflict,
			f.JournalID, f.FirstOffset, sum, f.SHA256)
	}
	return false, nil
}

// TickFilesQuery finds the files holding a tenant's ticks of symbol ($1)
// with event times in [$2, $3] (timestamptz); row-level security limits it
// to the session's tenant. README "Raw ticks" documents its short form.
const TickFilesQuery = `SELECT tenant_id, journal_id, first_offset, last_offset, symbols, ts_from_ns, ts_to_ns, rows, bytes, sha256, uri
	FROM tick_files WHERE symbols @> ARRAY[$1]::text[] AND ts_to >= $2 AND ts_from <= $3 ORDER BY ts_from, journal_id, first_offset`

// FindTickFiles runs TickFilesQuery as tenant: the files holding ticks of
// symbol with event times in [from, to], earliest first. A tenant login
// role finds its own tenant's files whatever tenant says (row-level
// security binds it); the trusted roles find tenant's.
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
		var first, last int64
		var sum string
		_, err = pgx.ForEachRow(rows, []any{&f.Tenant, &f.JournalID, &first, &last, &f.Symbols, &f.TsFrom, &f.TsTo,
			&f.Rows, &f.Bytes, &sum, &f.URI}, func() error {
			b, err := hex.DecodeString(sum)
			if err != nil || len(b) != 32 {
				return fmt.Errorf("tick_files: sha256 %q of %s", sum, f.URI)
			}
			copy(f.SHA256[:], b)
			f.FirstOffset, f.LastOffset = uint64(first), uint64(last)
			out = append(out, f)
			f.Symbols = nil // ForEachRow scans into the same slice otherwise
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find tick files: %w", err)
	}
	return out, nil
}
