package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// table is a destination of shipped rows and its staging twin.
type table struct {
	name, stage string
	cols        []string
}

const (
	tTicks = iota
	tWindows
	tLabels
	tTraces
	tEdges
	tRejects
	tOutbox
	tSymbols
	tDocs
	numTables
)

var tables = [numTables]table{
	tTicks:   {"raw_market_ticks", "stg_ticks", []string{"tenant_id", "journal_id", "journal_offset", "symbol", "symbol_id", "ts", "ts_ns", "in_seq", "payload"}},
	tWindows: {"feature_windows", "stg_windows", []string{"id", "tenant_id", "kind", "key", "window_start", "window_end", "start_ns", "end_ns", "status", "features", "label_spec", "feature_schema_version", "provenance", "hash", "journal_id", "journal_offset"}},
	tLabels:  {"window_labels", "stg_labels", []string{"tenant_id", "window_id", "key", "window_end", "label_spec", "valid", "mid_end", "mid_target", "value", "hash", "journal_id", "journal_offset"}},
	tTraces:  {"decision_traces", "stg_traces", []string{"id", "tenant_id", "feature_window_id", "window_hash", "key", "window_end", "router_version", "gate_scores", "selected_experts", "actions", "blended_action", "pnl_snapshot", "risk_flags", "behavior_embedding", "hash", "latency_ns", "journal_id", "journal_offset"}},
	tEdges:   {"lineage_edges", "stg_edges", []string{"tenant_id", "from_id", "to_id", "edge_type", "at", "journal_id", "journal_offset"}},
	tRejects: {"rejects", "stg_rejects", []string{"tenant_id", "journal_id", "journal_offset", "source", "kind", "reason", "detail", "raw"}},
	tOutbox:  {"outbox", "stg_outbox", []string{"tenant_id", "topic", "journal_id", "journal_offset", "payload"}},
	tSymbols: {"journal_symbols", "stg_symbols", []string{"tenant_id", "journal_id", "symbol_id", "name"}},
	tDocs: {"raw_edgar_docs", "stg_docs", []string{"id", "tenant_id", "cik", "form", "filing_time", "period_end", "sections", "xbrl", "hash",
		"name", "source_kind", "accession", "company", "raw_sha256", "raw_bytes", "issues", "journal_id", "journal_offset"}},
}

// directTables go by binary COPY straight into the table when the shipper's
// login bypasses row-level security (a writer role): rows keyed by their
// journal offset, which no other batch can hold, and decision traces,
// whose ids (the same in every replay of the same input) are checked
// first and the ones already stored left out. Windows and labels (a fill
// step), symbols (both lanes insert them) and EDGAR documents keep the
// staging path and its conflict handling.
var directTables = [numTables]bool{tTicks: true, tTraces: true, tEdges: true, tRejects: true, tOutbox: true}

// stagingDDL returns the statements that create the session's staging
// tables if this connection has none yet: the tables' columns with their
// types, read from the catalog (a writer login may not SELECT the tables
// themselves, so not CREATE TABLE … AS SELECT), once per Shipper. ON
// COMMIT DELETE ROWS empties them at every commit; a rollback takes their
// rows with it.
func (s *Shipper) stagingDDL(ctx context.Context, tx pgx.Tx) (string, error) {
	if s.staging != "" {
		return s.staging, nil
	}
	names := make([]string, numTables)
	for i, t := range tables {
		names[i] = t.name
	}
	rows, err := tx.Query(ctx, `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid WHERE a.attrelid = ANY($1::regclass[]) AND a.attnum > 0 AND NOT a.attisdropped`, names)
	if err != nil {
		return "", fmt.Errorf("column types: %w", err)
	}
	types := map[string]string{} // "table.column" → type
	var table, col, typ string
	if _, err := pgx.ForEachRow(rows, []any{&table, &col, &typ}, func() error { types[table+"."+col] = typ; return nil }); err != nil {
		return "", fmt.Errorf("column types: %w", err)
	}
	var sb strings.Builder
	sb.WriteString("SET LOCAL client_min_messages = warning;\n")
	for _, t := range tables {
		defs := make([]string, len(t.cols))
		for k, c := range t.cols {
			typ := types[t.name+"."+c]
			if typ == "" {
				return "", fmt.Errorf("column types: %s has no column %s", t.name, c)
			}
			defs[k] = c + " " + typ
		}
		fmt.Fprintf(&sb, "CREATE TEMP TABLE IF NOT EXISTS %s (%s) ON COMMIT DELETE ROWS;\n", t.stage, strings.Join(defs, ", "))
	}
	s.staging = sb.String()
	return s.staging, nil
}

var insertSQL = func() (out [numTables]string) {
	for i, t := range tables {
		cols := strings.Join(t.cols, ", ")
		out[i] = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT DO NOTHING", t.name, cols, cols, t.stage)
	}
	return out
}()

// fills run after a table's insert, from its staging table: they update
// rows the insert leaves alone. what names them in errors.
var fills = [numTables]struct{ sql, what string }{
	tWindows: {fillEdgar, "fill edgar windows"},
	tLabels:  {fillLabels, "fill labels"},
}

// fillLabels copies label fills into their windows.
const fillLabels = `UPDATE feature_windows w SET
	labels = jsonb_build_object('valid', l.valid, 'value', l.value, 'mid_end', l.mid_end, 'mid_target', l.mid_target),
	status = CASE WHEN l.valid THEN 'filled' ELSE w.status END
	FROM stg_labels l WHERE w.tenant_id = l.tenant_id AND w.id = l.window_id`

// fillEdgar moves EDGAR windows from open to filled when their missing
// part lands (Partial→Fill): the filled record replaces the open row's
// features, provenance and hash. Insert-if-absent runs first, so a batch
// holding both records ends with the filled one either way.
const fillEdgar = `UPDATE feature_windows w SET status = s.status, features = s.features, provenance = s.provenance,
	hash = s.hash, journal_id = s.journal_id, journal_offset = s.journal_offset
	FROM stg_windows s WHERE s.kind = 'edgar' AND s.status = 'filled' AND w.status = 'open'
	AND w.tenant_id = s.tenant_id AND w.id = s.id AND w.window_start = s.window_start`
