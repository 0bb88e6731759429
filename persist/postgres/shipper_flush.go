package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"thunderline/persist/tickarchive"
)

// flush writes the batch and moves shipper_offsets from b.start to b.end in
// one transaction. If the stored offset is not b.start, nothing is written.
//
// A panic inside the driver (pgx v5.7.2 closed a channel twice when the
// server died mid-COPY, jackc/pgx#2364) is turned into a failed batch: the
// transaction was never committed, so the batch is retried like any other
// connection loss instead of taking the engine down.
func (s *Shipper) flush(ctx context.Context, b *batch) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("batch [%d,%d): driver panic: %v", b.start, b.end, p)
		}
	}()
	return s.flushTx(ctx, b)
}

func (s *Shipper) flushTx(ctx context.Context, b *batch) error {
	if len(b.ticks) > 0 && b.file == nil {
		// Before the transaction: the same ticks make the same file, so
		// a batch that fails after this stores nothing new when retried.
		if err := s.archive(ctx, b); err != nil {
			return err
		}
	}
	var inserted int64
	if s.directOK(b) {
		var err error
		inserted, err = s.flushDirect(ctx, b)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != uniqueViolation {
			if err != nil {
				return err
			}
			s.committed(b, inserted)
			return nil
		}
		// Rows of this batch are stored already: a replay of the same
		// input journaled again (same window, label and trace ids). The
		// staging path leaves them out; this journal takes it from now on.
		s.conflicts.Store(true)
		s.opts.Logger.Info("shipper: rows already stored (a replay of the same input?): shipping through staging",
			"journal", s.opts.JournalID, "batch", b.start, "err", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("batch [%d,%d): begin: %w", b.start, b.end, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if err := WithTenant(ctx, tx, s.opts.Tenant); err != nil {
		return err
	}
	var cur int64
	if err := tx.QueryRow(ctx, "SELECT next_offset FROM shipper_offsets WHERE journal_id = $1 AND tenant_id = $2 FOR UPDATE",
		s.opts.offsetKey(), s.opts.Tenant).Scan(&cur); err != nil {
		return fmt.Errorf("batch [%d,%d): lock offset: %w", b.start, b.end, err)
	}
	if uint64(cur) != b.start {
		return fmt.Errorf("%w: stored %d, batch starts at %d", errOffsetMoved, cur, b.start)
	}
	inserted, err = s.move(ctx, tx, b)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("batch [%d,%d): commit: %w", b.start, b.end, err)
	}
	s.committed(b, inserted)
	return nil
}

// uniqueViolation is PostgreSQL's SQLSTATE unique_violation.
const uniqueViolation = "23505"

// committed counts b, committed with inserted rows.
func (s *Shipper) committed(b *batch, inserted int64) {
	s.next.Store(b.end)
	n := s.nLags.Load()
	s.lags[n%lagRing].Store(int64(time.Since(b.since)))
	s.nLags.Store(n + 1)
	s.batches.Add(1)
	s.rows.Add(uint64(inserted))
	s.records.Add(uint64(b.n))
	i := 0
	for i < len(BatchSizeBounds) && uint64(b.n) > BatchSizeBounds[i] {
		i++
	}
	s.sizes[i].Add(1)
	s.rejects.Add(uint64(b.rejected))
	if f := b.file; f != nil {
		s.archivedTicks.Add(uint64(f.Rows))
		s.archivedFiles.Add(1)
		s.archivedBytes.Add(uint64(f.Bytes))
	}
}

// archive writes b's ticks as a Parquet file to the archive store. The
// same ticks make the same bytes, so a batch retried after a failed
// commit stores nothing new and lists the same file.
func (s *Shipper) archive(ctx context.Context, b *batch) error {
	var buf bytes.Buffer
	f, err := tickarchive.Write(&buf, b.ticks)
	if err != nil {
		return fmt.Errorf("batch [%d,%d): archive: %w", b.start, b.end, err)
	}
	a, err := s.opts.Archive.Put(ctx, &buf, "parquet")
	if err != nil {
		return fmt.Errorf("batch [%d,%d): archive: %w", b.start, b.end, err)
	}
	b.file = &TickFile{JournalID: s.opts.JournalID, FirstOffset: f.FirstOffset, LastOffset: f.LastOffset, Symbols: f.Symbols,
		TsFrom: f.TsFrom, TsTo: f.TsTo, Rows: int64(f.Rows), Bytes: f.Bytes, SHA256: a.SHA256, URI: a.URI}
	return nil
}

// move (the staging path) COPYs each table's rows of b into its staging table, then moves
// them all into the tables and stores the offset in one pipelined round
// trip. It returns the rows inserted.
func (s *Shipper) move(ctx context.Context, tx pgx.Tx, b *batch) (int64, error) {
	ddl, err := s.stagingDDL(ctx, tx)
	if err == nil {
		_, err = tx.Exec(ctx, ddl)
	}
	if err != nil {
		return 0, fmt.Errorf("batch [%d,%d): staging tables: %w", b.start, b.end, err)
	}
	var q pgx.Batch
	type step struct {
		what   string
		insert bool // its rows count as inserted
	}
	var steps []step
	var direct int64
	for i := range tables {
		rows := b.rows[i]
		if len(rows) == 0 {
			continue
		}
		t := &tables[i]
		if s.direct && directTables[i] {
			// Exactly once without a conflict clause: the offset moves in
			// this transaction, so none of these rows was committed before
			// (traces: none of another journal's either, checked).
			if i == tTraces {
				var err error
				if rows, err = newTraces(ctx, tx, rows); err != nil {
					return 0, fmt.Errorf("batch [%d,%d): %w", b.start, b.end, err)
				}
			}
			n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(rows))
			if err != nil {
				return 0, fmt.Errorf("batch [%d,%d): copy %s: %w", b.start, b.end, t.name, err)
			}
			direct += n
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.stage}, t.cols, pgx.CopyFromRows(rows)); err != nil {
			return 0, fmt.Errorf("batch [%d,%d): copy %s: %w", b.start, b.end, t.name, err)
		}
		q.Queue(insertSQL[i])
		steps = append(steps, step{"insert " + t.name, true})
		if f := fills[i]; f.sql != "" {
			q.Queue(f.sql)
			steps = append(steps, step{f.what, false})
		}
	}
	if f := b.file; f != nil {
		q.Queue(insertTickFile, tickFileArgs(f)...)
		steps = append(steps, step{"insert tick file", false})
	}
	if s.testHookBeforeOffset != nil {
		s.testHookBeforeOffset()
	}
	q.Queue("UPDATE shipper_offsets SET next_offset = $2, updated_at = now() WHERE journal_id = $1 AND tenant_id = $3",
		s.opts.offsetKey(), int64(b.end), s.opts.Tenant)
	steps = append(steps, step{"store offset", false})
	br := tx.SendBatch(ctx, &q)
	inserted := direct
	for _, st := range steps {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return 0, fmt.Errorf("batch [%d,%d): %s: %w", b.start, b.end, st.what, err)
		}
		if st.insert {
			inserted += tag.RowsAffected()
		}
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("batch [%d,%d): %w", b.start, b.end, err)
	}
	return inserted, nil
}

// newTraces returns the trace rows whose (tenant, id) is not stored yet: a
// replay of the same input journaled again makes the same trace ids.
func newTraces(ctx context.Context, tx pgx.Tx, rows [][]any) ([][]any, error) {
	ids := make([][16]byte, len(rows))
	for i, r := range rows {
		ids[i], _ = r[0].([16]byte) // the id column (tables[tTraces].cols[0])
	}
	q, err := tx.Query(ctx, "SELECT id FROM decision_traces WHERE tenant_id = $1 AND id = ANY($2::uuid[])", rows[0][1], ids)
	if err != nil {
		return nil, fmt.Errorf("stored traces: %w", err)
	}
	stored := map[[16]byte]bool{}
	var id [16]byte
	if _, err := pgx.ForEachRow(q, []any{&id}, func() error { stored[id] = true; return nil }); err != nil {
		return nil, fmt.Errorf("stored traces: %w", err)
	}
	if len(stored) == 0 {
		return rows, nil
	}
	kept := rows[:0:0]
	for _, r := range rows {
		if id, _ := r[0].([16]byte); !stored[id] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}
