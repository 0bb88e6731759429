"""Independent reference order book for the DBN tests: databento-dbn
(Databento's own decoder, pinned in requirements.txt) reads a plain DBN file
and this script keeps one book per instrument the way Databento's book
examples do — MBO: add, cancel (by size), modify (an unknown order is an
add), clear; trades, fills and 'none' leave the book alone — and MBP-1,
MBP-10 and TBBO books are the levels of their last record.

It prints one line per market record (MBO, trades, MBP-1/TBBO, MBP-10):
"instrument_id best_bid_px best_bid_size best_ask_px best_ask_size" (0 0 for
an empty side), then "levels instrument_id bids asks" per instrument.
Usage: refbook.py FILE.dbn
"""
import sys
from collections import defaultdict

import databento_dbn as dbn

UNDEF_PRICE = 2**63 - 1


class MBOBook:
    def __init__(self):
        self.orders = {}  # order id -> [side, price, size]
        self.levels = {"B": defaultdict(int), "A": defaultdict(int)}

    def _rest(self, oid, side, px, size):
        if side not in self.levels or size == 0:
            return
        self.orders[oid] = [side, px, size]
        self.levels[side][px] += size

    def _remove(self, oid, qty=None):
        o = self.orders.get(oid)
        if o is None:
            return
        side, px, size = o
        q = size if qty is None or qty == 0 or qty >= size else qty
        self.levels[side][px] -= q
        if self.levels[side][px] <= 0:
            del self.levels[side][px]
        if q == size:
            del self.orders[oid]
        else:
            o[2] = size - q

    def apply(self, r):
        a = str(r.action)
        a = a[-1] if a else a
        if a == "R":
            self.__init__()
        elif a == "A":
            if r.order_id in self.orders:
                self._remove(r.order_id)
            self._rest(r.order_id, str(r.side)[-1], r.price, r.size)
        elif a == "C":
            self._remove(r.order_id, r.size)
        elif a == "M":
            self._remove(r.order_id)
            self._rest(r.order_id, str(r.side)[-1], r.price, r.size)

    def top(self):
        b = max(self.levels["B"]) if self.levels["B"] else None
        s = min(self.levels["A"]) if self.levels["A"] else None
        return ((b, self.levels["B"][b]) if b is not None else (0, 0),
                (s, self.levels["A"][s]) if s is not None else (0, 0))

    def count(self):
        return len(self.levels["B"]), len(self.levels["A"])


class MBPBook:
    def __init__(self):
        self.bids, self.asks = [], []

    def set(self, levels):
        self.bids = [(l.bid_px, l.bid_sz) for l in levels if l.bid_px != UNDEF_PRICE and l.bid_sz > 0]
        self.asks = [(l.ask_px, l.ask_sz) for l in levels if l.ask_px != UNDEF_PRICE and l.ask_sz > 0]

    def top(self):
        return (self.bids[0] if self.bids else (0, 0), self.asks[0] if self.asks else (0, 0))

    def count(self):
        return len(self.bids), len(self.asks)


def main(path):
    dec = dbn.DBNDecoder()
    with open(path, "rb") as f:
        dec.write(f.read())
    books = {}
    out = []
    for r in dec.decode():
        if isinstance(r, dbn.MBOMsg):
            b = books.setdefault(r.instrument_id, MBOBook())
            b.apply(r)
        elif isinstance(r, (dbn.MBP1Msg, dbn.MBP10Msg)):
            b = books.setdefault(r.instrument_id, MBPBook())
            b.set(r.levels)
        elif isinstance(r, dbn.TradeMsg):
            b = books.setdefault(r.instrument_id, MBPBook())  # a trade leaves a book as it is
        else:
            continue
        (bp, bs), (ap, asz) = b.top()
        out.append(f"{r.instrument_id} {bp} {bs} {ap} {asz}")
    for iid, b in sorted(books.items()):
        nb, na = b.count()
        out.append(f"levels {iid} {nb} {na}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
