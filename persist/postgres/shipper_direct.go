package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The writer path: a login that row-level security does not bind
// (BYPASSRLS, bound to its tenant in tenant_roles) writes every row of a
// market batch by binary COPY straight into its table, once: no staging
// table, no conflict clause. Exactly once still holds, since the offset
// moves in the same transaction and no row of the batch can have been
// committed by an earlier batch of the journal: rows keyed by their
// journal offset (ticks, edges, rejects, outbox) are new by construction.
// Windows, labels and traces are keyed by ids that a replay of the same
// input, journaled again, makes again: such a batch fails its COPY with a
// unique violation, commits nothing, and goes again by the staging path,
// which leaves stored rows out (and so does the rest of that journal).
// A label whose window is in the same batch is folded into the window's
// row before the COPY; the others fill their windows by one UPDATE … FROM
// unnest(…). Symbols (both lanes write them) go by INSERT … FROM unnest(…)
// ON CONFLICT DO NOTHING. Batches with EDGAR windows or documents
// (Partial→Fill updates, documents keyed by content) take the staging
// path.

// directOK reports whether b goes by the writer path.
func (s *Shipper) directOK(b *batch) bool {
	if !s.direct || s.conflicts.Load() || len(b.rows[tDocs]) > 0 {
		return false
	}
	for _, r := range b.rows[tWindows] {
		if r[colKind] != "market" {
			return false
		}
	}
	return true
}

// Columns of the rows flushDirect looks into (tables' cols order).
const (
	colWinID, colKind, colWinStatus = 0, 2, 8 // feature_windows id, kind, status
	colLabelWin                     = 1       // window_labels window_id
	colLabelValid                   = 5       // window_labels valid, then mid_end, mid_target, value
)

// windowColsDirect are feature_windows' columns with the folded labels.
var windowColsDirect = append(append([]string{}, tables[tWindows].cols...), "labels")

// flushDirect writes b by the writer path in one transaction on a
// connection of its own, three kinds of round trip: BEGIN with the tenant
// and the offset's lock, a COPY per table, and the fills, the offset and
// COMMIT together. It returns the rows inserted. A row stored already
// fails the COPY with a unique violation (SQLSTATE 23505) and nothing is
// committed.
func (s *Shipper) flushDirect(ctx context.Context, b *batch) (inserted int64, err error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("batch [%d,%d): connect: %w", b.start, b.end, err)
	}
	// A connection left inside a transaction is closed on Release.
	defer pc.Release()
	conn := pc.Conn()
	defer func() {
		if err != nil && conn.PgConn().TxStatus() != 'I' && !conn.IsClosed() {
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn.Exec(rctx, "ROLLBACK") //nolint:errcheck // the pool closes it otherwise
		}
	}()
	var q pgx.Batch
	q.Queue("BEGIN")
	q.Queue("SELECT set_config($1, $2, true)", TenantSetting, s.opts.Tenant)
	q.Queue("SELECT next_offset FROM shipper_offsets WHERE journal_id = $1 AND tenant_id = $2 FOR UPDATE", s.opts.offsetKey(), s.opts.Tenant)
	var cur int64
	br := conn.SendBatch(ctx, &q)
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		err = br.QueryRow().Scan(&cur)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("batch [%d,%d): begin, lock offset: %w", b.start, b.end, err)
	}
	if uint64(cur) != b.start {
		return 0, fmt.Errorf("%w: stored %d, batch starts at %d", errOffsetMoved, cur, b.start)
	}
	windows, unfolded := foldLabels(b)
	for i := range tables {
		rows, cols := b.rows[i], tables[i].cols
		if i == tWindows {
			rows, cols = windows, windowColsDirect
		}
		if len(rows) == 0 || i == tSymbols {
			continue
		}
		var n int64
		if s.testUnnest {
			n, err = insertUnnest(ctx, conn, i, cols, rows)
		} else {
			n, err = conn.CopyFrom(ctx, pgx.Identifier{tables[i].name}, cols, pgx.CopyFromRows(rows))
		}
		if err != nil {
			return 0, fmt.Errorf("batch [%d,%d): copy %s: %w", b.start, b.end, tables[i].name, err)
		}
		inserted += n
	}
	q = pgx.Batch{}
	var what []string
	if len(unfolded) > 0 {
		ids, labels, valid := make([][16]byte, len(unfolded)), make([][]byte, len(unfolded)), make([]bool, len(unfolded))
		for k, r := range unfolded {
			ids[k], _ = r[colLabelWin].([16]byte)
			labels[k], valid[k] = labelJSON(r), r[colLabelValid] == true
		}
		q.Queue(`UPDATE feature_windows w SET labels = l.labels, status = CASE WHEN l.valid THEN 'filled' ELSE w.status END
			FROM unnest($1::uuid[], $2::jsonb[], $3::bool[]) AS l(id, labels, valid) WHERE w.tenant_id = $4 AND w.id = l.id`,
			ids, labels, valid, s.opts.Tenant)
		what = append(what, "fill labels")
	}
	if rows := b.rows[tSymbols]; len(rows) > 0 {
		ids, names := make([]int32, len(rows)), make([]string, len(rows))
		for k, r := range rows {
			ids[k], names[k] = r[2].(int32), r[3].(string)
		}
		q.Queue(`INSERT INTO journal_symbols (tenant_id, journal_id, symbol_id, name)
			SELECT $1, $2, * FROM unnest($3::int[], $4::text[]) ON CONFLICT DO NOTHING`, s.opts.Tenant, s.opts.JournalID, ids, names)
		what = append(what, "insert journal_symbols")
	}
	if f := b.file; f != nil {
		q.Queue(insertTickFile, tickFileArgs(f)...)
		what = append(what, "insert tick file")
	}
	if s.testHookBeforeOffset != nil {
		s.testHookBeforeOffset()
	}
	q.Queue("UPDATE shipper_offsets SET next_offset = $2, updated_at = now() WHERE journal_id = $1 AND tenant_id = $3",
		s.opts.offsetKey(), int64(b.end), s.opts.Tenant)
	q.Queue("COMMIT")
	what = append(what, "store offset", "commit")
	br = conn.SendBatch(ctx, &q)
	for _, w := range what {
		tag, err := br.Exec()
		switch {
		case err != nil:
			br.Close()
			return 0, fmt.Errorf("batch [%d,%d): %s: %w", b.start, b.end, w, err)
		case w == "insert journal_symbols":
			inserted += tag.RowsAffected()
		case w == "commit" && tag.String() != "COMMIT": // "ROLLBACK" when the transaction had failed
			br.Close()
			return 0, fmt.Errorf("batch [%d,%d): commit: %s", b.start, b.end, tag)
		}
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("batch [%d,%d): %w", b.start, b.end, err)
	}
	return inserted, nil
}

// foldLabels returns b's window rows with the labels column appended (the
// last of b's labels for each, its status 'filled' when valid; NULL
// without one), leaving b's rows as they were (the staging path may take
// the batch after all), and the labels whose window is not in b.
func foldLabels(b *batch) (windows, unfolded [][]any) {
	windows = make([][]any, len(b.rows[tWindows]))
	at := make(map[[16]byte]int, len(windows))
	for i, r := range b.rows[tWindows] {
		id, _ := r[colWinID].([16]byte)
		at[id] = i
		windows[i] = append(r[:len(r):len(r)], nil)
	}
	for _, l := range b.rows[tLabels] {
		id, _ := l[colLabelWin].([16]byte)
		i, ok := at[id]
		if !ok {
			unfolded = append(unfolded, l)
			continue
		}
		w := windows[i]
		w[len(w)-1] = labelJSON(l)
		if l[colLabelValid] == true {
			w[colWinStatus] = "filled"
		}
	}
	return windows, unfolded
}

// labelJSON is feature_windows.labels of a window_labels row: what the
// staging path's jsonb_build_object makes (non-finite numbers as null).
func labelJSON(l []any) []byte {
	var w jsonw
	w.open('{')
	w.key("valid").bool(l[colLabelValid] == true)
	for _, c := range []struct {
		name string
		col  int
	}{{"value", colLabelValid + 3}, {"mid_end", colLabelValid + 1}, {"mid_target", colLabelValid + 2}} {
		v, _ := l[c.col].(float64)
		w.key(c.name).f64(v)
	}
	w.close('}')
	return w.done()
}

// insertUnnest writes rows into table i by one INSERT … SELECT FROM
// unnest(…) of a typed array per column: the alternative to COPY the
// benchmark measures (testUnnest).
func insertUnnest(ctx context.Context, conn *pgx.Conn, i int, cols []string, rows [][]any) (int64, error) {
	types, err := columnTypes(ctx, conn, tables[i].name, cols)
	if err != nil {
		return 0, err
	}
	args := make([]any, len(cols))
	params := make([]string, len(cols))
	for c := range cols {
		col := make([]any, len(rows))
		for r, row := range rows {
			col[r] = row[c]
		}
		args[c] = col
		params[c] = fmt.Sprintf("$%d::%s[]", c+1, types[c])
	}
	tag, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM unnest(%s)", tables[i].name,
		strings.Join(cols, ", "), strings.Join(params, ", ")), args...)
	return tag.RowsAffected(), err
}

// columnTypes returns the SQL types of table's cols.
func columnTypes(ctx context.Context, conn *pgx.Conn, table string, cols []string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, table)
	if err != nil {
		return nil, fmt.Errorf("column types of %s: %w", table, err)
	}
	byName := map[string]string{}
	var name, typ string
	if _, err := pgx.ForEachRow(rows, []any{&name, &typ}, func() error { byName[name] = typ; return nil }); err != nil {
		return nil, fmt.Errorf("column types of %s: %w", table, err)
	}
	out := make([]string, len(cols))
	for k, c := range cols {
		if out[k] = byName[c]; out[k] == "" {
			return nil, fmt.Errorf("column types of %s: no column %s", table, c)
		}
	}
	return out, nil
}
