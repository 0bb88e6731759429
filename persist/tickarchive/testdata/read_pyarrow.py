"""Reads a tick archive file with pyarrow and prints its rows as JSON lines
(one object per row, the columns by name): what the Go test compares with
the ticks it archived. Also checks the schema people rely on."""
import json
import sys

import pyarrow.parquet as pq

table = pq.read_table(sys.argv[1])
want = {"tenant", "symbol", "ts_event", "ts_recv", "journal_offset", "in_seq", "seq", "kind", "action", "side", "depth",
        "bid_px", "ask_px", "trade_px", "price", "bid_qty", "ask_qty", "trade_qty", "size", "order_id", "venue", "flags"}
if set(table.column_names) != want:
    sys.exit(f"columns {table.column_names}")
meta = pq.ParquetFile(sys.argv[1]).metadata
sorted_by = [meta.schema.column(c.column_index).name for c in meta.row_group(0).sorting_columns]
kv = {k.decode(): v.decode() for k, v in (meta.metadata or {}).items() if k.startswith(b"thunderline.")}
print(json.dumps({"rows": meta.num_rows, "row_groups": meta.num_row_groups,
                  "codec": meta.row_group(0).column(0).compression, "sorted_by": sorted_by, "metadata": kv}))
for row in table.to_pylist():
    print(json.dumps(row, sort_keys=True))
if len(sys.argv) == 5:  # symbol, from_ns, to_ns: README's filtered read, then its row count
    symbol, from_ns, to_ns = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    t = pq.read_table(sys.argv[1], filters=[("symbol", "=", symbol), ("ts_event", ">=", from_ns), ("ts_event", "<=", to_ns)])
    print(json.dumps({"selected": t.num_rows}))
