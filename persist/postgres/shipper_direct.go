package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The writer path: a login that row-level security does not bind
// (BYPASSRLS, bound to its tenant in tenant_roles) writes every row of a
// market batch by binary COPY straight into its table, once: no staging
// table, no conflict clause. Exactly once still holds, since the offset
// moves in the same transaction and none of these rows can have been
// committed by an earlier batch of the journal: rows keyed by their
// journal offset (ticks, edges, rejects, outbox) are new by construction;
// windows, labels and traces are keyed by ids that a replay of the same
// input journaled again makes again, so the ones already stored are read
// first (one pipelined round trip) and left out. A label whose window is in
// the same batch is folded into the window's row before the COPY; the
// others fill their windows by one UPDATE … FROM unnest(…). Symbols (both
// lanes write them) go by INSERT … FROM unnest(…) ON CONFLICT DO NOTHING.
// Batches with EDGAR windows or documents (Partial→Fill updates, documents
// keyed by content) take the staging path.

// directOK reports whether b goes by the writer path.
func (s *Shipper) directOK(b *batch) bool {
	if !s.direct || len(b.rows[tDocs]) > 0 {
		return false
	}
	for _, r := range b.rows[tWindows] {
		if r[colKind] != "market" {
			return false
		}
	}
	return true
}

// Columns of the rows moveDirect looks into (tables' cols order).
const (
	colWinID, colKind, colWinStatus = 0, 2, 8 // feature_windows id, kind, status
	colLabelWin, colLabelHash       = 1, 9    // window_labels window_id, hash
	colLabelValid                   = 5       // window_labels valid, then mid_end, mid_target, value
)

// windowColsDirect are feature_windows' columns with the folded labels.
var windowColsDirect = append(append([]string{}, tables[tWindows].cols...), "labels")

// moveDirect writes b by the writer path and stores the offset; it returns
// the rows inserted.
func (s *Shipper) moveDirect(ctx context.Context, tx pgx.Tx, b *batch) (int64, error) {
	if err := s.leaveOutStored(ctx, tx, b); err != nil {
		return 0, fmt.Errorf("batch [%d,%d): %w", b.start, b.end, err)
	}
	unfolded := foldLabels(b)
	var inserted int64
	for i := range tables {
		rows := b.rows[i]
		if len(rows) == 0 || i == tSymbols {
			continue
		}
		cols := tables[i].cols
		if i == tWindows {
			cols = windowColsDirect
		}
		var n int64
		var err error
		if s.testUnnest {
			n, err = s.insertUnnest(ctx, tx, i, cols, rows)
		} else {
			n, err = tx.CopyFrom(ctx, pgx.Identifier{tables[i].name}, cols, pgx.CopyFromRows(rows))
		}
		if err != nil {
			return 0, fmt.Errorf("batch [%d,%d): copy %s: %w", b.start, b.end, tables[i].name, err)
		}
		inserted += n
	}
	var q pgx.Batch
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
	q.Queue("UPDATE shipper_offsets SET next_offset = $2, updated_at = now() WHERE journal_id = $1", s.opts.offsetKey(), int64(b.end))
	what = append(what, "store offset")
	br := tx.SendBatch(ctx, &q)
	for _, w := range what {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return 0, fmt.Errorf("batch [%d,%d): %s: %w", b.start, b.end, w, err)
		}
		if w == "insert journal_symbols" {
			inserted += tag.RowsAffected()
		}
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("batch [%d,%d): %w", b.start, b.end, err)
	}
	return inserted, nil
}

// leaveOutStored drops from b the windows, labels and traces already
// stored for the tenant (a replay of the same input, journaled again) and
// any repeated within b, in one pipelined round trip.
func (s *Shipper) leaveOutStored(ctx context.Context, tx pgx.Tx, b *batch) error {
	type check struct {
		table int
		sql   string
		ids   [][16]byte
		idCol int
	}
	checks := []check{
		{tWindows, "SELECT id, NULL::bytea FROM feature_windows WHERE tenant_id = $1 AND id = ANY($2::uuid[])", nil, colWinID},
		{tLabels, "SELECT window_id, hash FROM window_labels WHERE tenant_id = $1 AND window_id = ANY($2::uuid[])", nil, colLabelWin},
		{tTraces, "SELECT id, NULL::bytea FROM decision_traces WHERE tenant_id = $1 AND id = ANY($2::uuid[])", nil, 0},
	}
	var q pgx.Batch
	var sent []*check
	for k := range checks {
		c := &checks[k]
		rows := b.rows[c.table]
		if len(rows) == 0 {
			continue
		}
		c.ids = make([][16]byte, len(rows))
		for i, r := range rows {
			c.ids[i], _ = r[c.idCol].([16]byte)
		}
		q.Queue(c.sql, s.opts.Tenant, c.ids)
		sent = append(sent, c)
	}
	if len(sent) == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, &q)
	defer br.Close()
	for _, c := range sent {
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("stored %s: %w", tables[c.table].name, err)
		}
		stored := map[string]bool{}
		var id [16]byte
		var hash []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &hash}, func() error { stored[string(id[:])+string(hash)] = true; return nil }); err != nil {
			return fmt.Errorf("stored %s: %w", tables[c.table].name, err)
		}
		kept := b.rows[c.table][:0:0]
		for i, r := range b.rows[c.table] {
			k := string(c.ids[i][:])
			if c.table == tLabels {
				h, _ := r[colLabelHash].([]byte)
				k += string(h)
			}
			if !stored[k] {
				stored[k] = true // a second one in this batch is left out too
				kept = append(kept, r)
			}
		}
		b.rows[c.table] = kept
	}
	return br.Close()
}

// foldLabels appends each window row's labels column: the last valid or
// invalid fill among b's labels for it (its status 'filled' when valid),
// else NULL. It returns the labels whose window is not in b.
func foldLabels(b *batch) (unfolded [][]any) {
	at := make(map[[16]byte]int, len(b.rows[tWindows]))
	for i, r := range b.rows[tWindows] {
		id, _ := r[colWinID].([16]byte)
		at[id] = i
		b.rows[tWindows][i] = append(r[:len(r):len(r)], nil)
	}
	for _, l := range b.rows[tLabels] {
		id, _ := l[colLabelWin].([16]byte)
		i, ok := at[id]
		if !ok {
			unfolded = append(unfolded, l)
			continue
		}
		w := b.rows[tWindows][i]
		w[len(w)-1] = labelJSON(l)
		if l[colLabelValid] == true {
			w[colWinStatus] = "filled"
		}
	}
	return unfolded
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
func (s *Shipper) insertUnnest(ctx context.Context, tx pgx.Tx, i int, cols []string, rows [][]any) (int64, error) {
	types, err := columnTypes(ctx, tx, tables[i].name, cols)
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
	tag, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM unnest(%s)", tables[i].name,
		strings.Join(cols, ", "), strings.Join(params, ", ")), args...)
	return tag.RowsAffected(), err
}

// columnTypes returns the SQL types of table's cols.
func columnTypes(ctx context.Context, tx pgx.Tx, table string, cols []string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
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
