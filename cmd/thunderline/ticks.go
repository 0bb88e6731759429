package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/persist/artifacts"
	"thunderline/persist/postgres"
	"thunderline/persist/tickarchive"
)

// cmdTicks: thunderline ticks --symbol S --from T --to T [--tenant T]
// [--journal ID] [--out FILE.parquet | --csv]: the archived raw ticks of a
// symbol and a time range, found through tick_files and read from their
// Parquet files (only the row groups that can hold them).
func cmdTicks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ticks", stderr)
	dsn := fs.String("dsn", os.Getenv("THUNDERLINE_PG_DSN"), "Postgres `dsn` (default: THUNDERLINE_PG_DSN)")
	tenant := fs.String("tenant", "default", "tenant whose ticks to read (a tenant login role reads its own whatever this says)")
	symbol := fs.String("symbol", "", "symbol, as the journal names it (required)")
	fromS := fs.String("from", "", "first event time, RFC 3339 (2026-12-04T14:30:00Z), a date or ns since the epoch (required)")
	toS := fs.String("to", "", "last event time, inclusive, RFC 3339, a date (to its end) or ns since the epoch (required)")
	journal := fs.String("journal", "", "only the ticks of this run's journal (`id`: its directory name), when several runs archived the same times")
	out := fs.String("out", "", "write the ticks to this Parquet `file` (the archive's columns)")
	csv := fs.Bool("csv", false, "write the ticks as CSV on stdout (the default without --out)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *symbol == "" || *fromS == "" || *toS == "" || fs.NArg() != 0 {
		return usagef("ticks: give --symbol, --from and --to")
	}
	if *csv && *out != "" {
		return usagef("ticks: --out or --csv, not both")
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
	if to.Before(from) {
		return usagef("--to %s is before --from %s", *toS, *fromS)
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
	files = slices.DeleteFunc(files, func(f postgres.TickFile) bool { return *journal != "" && f.JournalID != *journal })
	rows, err := readTicks(ctx, files, tickarchive.Filter{Symbol: *symbol, From: from.UnixNano(), To: to.UnixNano()})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "ticks: %d ticks of %s from %d files\n", len(rows), *symbol, len(files))
	if *out != "" {
		return writeTicksParquet(*out, *symbol, rows)
	}
	return writeTicksCSV(stdout, rows)
}

// readTicks reads what filter picks from files (each checked against its
// sha256 as it is read), in event time order; files listed in time order
// keep ticks of equal times in journal order.
func readTicks(ctx context.Context, files []postgres.TickFile, filter tickarchive.Filter) ([]tickarchive.Row, error) {
	var rows []tickarchive.Row
	s3 := s3FromEnv()
	for _, f := range files {
		rc, err := artifacts.OpenURI(ctx, f.URI, f.SHA256, s3)
		if err != nil {
			return nil, fmt.Errorf("ticks: %s: %w", f.URI, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("ticks: %s: %w", f.URI, err)
		}
		got, err := tickarchive.Select(bytes.NewReader(b), int64(len(b)), filter)
		if err != nil {
			return nil, fmt.Errorf("ticks: %s: %w", f.URI, err)
		}
		rows = append(rows, got...)
	}
	slices.SortStableFunc(rows, func(a, b tickarchive.Row) int { return cmp.Compare(a.TsEvent, b.TsEvent) })
	return rows, nil
}

// s3FromEnv is the endpoint and credentials for s3:// archive files, from
// the environment as for federate (never flags: they show in process lists).
func s3FromEnv() artifacts.S3Options {
	return artifacts.S3Options{Endpoint: os.Getenv("THUNDERLINE_S3_ENDPOINT"), AccessKey: os.Getenv("THUNDERLINE_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("THUNDERLINE_S3_SECRET_KEY"), UseSSL: os.Getenv("THUNDERLINE_S3_SSL") == "1"}
}

func writeTicksParquet(path, symbol string, rows []tickarchive.Row) error {
	if len(rows) == 0 {
		return fmt.Errorf("ticks: no ticks of %s in that range: %s not written", symbol, path)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tickarchive.Write(f, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ticksCSVHeader names the CSV columns: the archive's, in its order.
const ticksCSVHeader = "tenant,symbol,ts_event,ts_recv,journal_offset,in_seq,seq,kind,action,side,depth," +
	"bid_px,ask_px,trade_px,price,bid_qty,ask_qty,trade_qty,size,order_id,venue,flags"

func writeTicksCSV(stdout io.Writer, rows []tickarchive.Row) error {
	w := bufio.NewWriter(stdout)
	fmt.Fprintln(w, ticksCSVHeader)
	for _, r := range rows {
		fmt.Fprintf(w, "%s,%s,%d,%d,%d,%d,%d,%s,%s,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", r.Tenant, r.Symbol, r.TsEvent, r.TsRecv,
			r.JournalOffset, r.InSeq, r.Seq, r.Kind, r.Action, r.Side, r.Depth, r.BidPx, r.AskPx, r.TradePx, r.Price,
			r.BidQty, r.AskQty, r.TradeQty, r.Size, r.OrderID, r.Venue, r.Flags)
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
