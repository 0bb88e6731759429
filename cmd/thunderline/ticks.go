package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/persist/artifacts"
	"thunderline/persist/postgres"
	"thunderline/persist/tickarchive"
)

// cmdTicks: thunderline ticks --symbol S --from T --to T [--tenant T]
// [--out FILE.parquet]: the archived raw ticks of a symbol and a time range,
// found through tick_files and read from their Parquet files.
func cmdTicks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ticks", stderr)
	dsn := fs.String("dsn", os.Getenv("THUNDERLINE_PG_DSN"), "Postgres `dsn` (default: THUNDERLINE_PG_DSN)")
	tenant := fs.String("tenant", "default", "tenant whose ticks to read (a tenant login role reads its own whatever this says)")
	symbol := fs.String("symbol", "", "symbol, as the journal names it (required)")
	fromS := fs.String("from", "", "first event time, RFC 3339 (2026-12-04T14:30:00Z) or a date (required)")
	toS := fs.String("to", "", "last event time, RFC 3339 or a date (a date: to its end) (required)")
	out := fs.String("out", "", "write the ticks to this Parquet `file` instead of CSV on stdout")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *symbol == "" || *fromS == "" || *toS == "" || fs.NArg() != 0 {
		return usagef("ticks: give --symbol, --from and --to")
	}
	if *dsn == "" {
		return usagef("no DSN: give --dsn or set THUNDERLINE_PG_DSN")
	}
	from, err := parseTime(*fromS, false)
	if err != nil {
		return usagef("--from: %v", err)
	}
	to, err := parseTime(*toS, true)
	if err != nil {
		return usagef("--to: %v", err)
	}
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	files, err := postgres.FindTickFiles(ctx, pool, *tenant, *symbol, from, to)
	if err != nil {
		return err
	}
	var rows []tickarchive.Row
	for _, f := range files {
		rc, err := artifacts.OpenURI(ctx, f.URI, f.SHA256, artifacts.S3Options{})
		if err != nil {
			return fmt.Errorf("ticks: %s: %w", f.URI, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("ticks: %s: %w", f.URI, err)
		}
		all, err := tickarchive.ReadBytes(b)
		if err != nil {
			return fmt.Errorf("ticks: %s: %w", f.URI, err)
		}
		for _, r := range all {
			if r.Symbol == *symbol && r.TsEvent >= from.UnixNano() && r.TsEvent <= to.UnixNano() {
				rows = append(rows, r)
			}
		}
	}
	fmt.Fprintf(stderr, "ticks: %d ticks of %s from %d files\n", len(rows), *symbol, len(files))
	if *out != "" {
		if len(rows) == 0 {
			return fmt.Errorf("ticks: no ticks of %s in that range: %s not written", *symbol, *out)
		}
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if _, err := tickarchive.Write(f, rows); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	w := bufio.NewWriter(stdout)
	fmt.Fprintln(w, "symbol,ts_event,ts_recv,kind,action,side,depth,bid_px,ask_px,trade_px,price,bid_qty,ask_qty,trade_qty,size,order_id,journal_offset")
	for _, r := range rows {
		fmt.Fprintf(w, "%s,%d,%d,%s,%s,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", r.Symbol, r.TsEvent, r.TsRecv, r.Kind, r.Action, r.Side,
			r.Depth, r.BidPx, r.AskPx, r.TradePx, r.Price, r.BidQty, r.AskQty, r.TradeQty, r.Size, r.OrderID, r.JournalOffset)
	}
	return w.Flush()
}

// parseTime reads RFC 3339 (with or without fraction), a date (its start,
// or with end its last nanosecond) or ns since the epoch.
func parseTime(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.Parse("2006-01-02", s); err == nil {
		if end {
			return d.Add(24*time.Hour - 1), nil
		}
		return d, nil
	}
	if ns, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(0, ns).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339, YYYY-MM-DD or ns since the epoch", s)
}
