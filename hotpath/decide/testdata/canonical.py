#!/usr/bin/env python3
"""Encode one FeatureWindow and one DecisionTrace from DESIGN.md's
"Canonical encodings (version 1)" alone (no Go code consulted), and print
their bytes, SHA-256 hashes and ids as JSON. TestCanonicalVectorsFromSpec
(hotpath/decide) compares the Go encoders with this, byte for byte.

The inputs are fixed below; the Go test builds the same values."""
import hashlib
import json
import struct


def u8(v): return struct.pack("<B", v)
def i8(v): return struct.pack("<b", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)
def i64(v): return struct.pack("<q", v)
def f32(v): return struct.pack("<f", v)
def f64(v): return struct.pack("<d", v)


def name(s):
    b = s.encode()[:64]
    return u8(len(b)) + b


def uuid8(digest):
    b = bytearray(digest[:16])
    b[6] = 0x80 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return bytes(b)


# The window: market, recipe core, the core features in recipe order.
TENANT, SYMBOL = "acme", "ESZ6"
START, END = 1_700_000_000_000_000_000, 1_700_000_000_250_000_000
CORE = [(0, 0.00125), (5, 3.0), (6, 17.0), (7, 4512.25), (10, 42.0), (11, 4512.375)]
window = (b"TLFW" + u8(1) + u8(1) + u8(3) + u16(1)
          + name(TENANT) + name(SYMBOL) + i64(START) + i64(END)
          + u8(len(CORE)) + b"".join(u8(fid) + f64(v) for fid, v in CORE)
          + i64(500_000_000) + u8(1) + f64(0.0)
          + u64(1001) + u64(1042) + u32(42))
window_hash = hashlib.sha256(window).digest()
window_id = uuid8(hashlib.sha256(
    b"TLFW-ID:" + name(TENANT) + u8(1) + name(SYMBOL) + i64(START) + i64(END) + u8(3)).digest())

# The trace: one layer, three gates, two selected experts (the second
# abstains), a buy after risk, a position, a negative PnL, a behavior vector.
VERSION = 7
GATES = [0.5, 0.3125, 0.1875]
SELECTED = [  # layer, expert, abstain, gate, buy, sell, hold, confidence
    (0, 0, 0, 0.5, 0.75, 0.125, 0.125, 0.875),
    (0, 1, 1, 0.3125, 0.0, 0.0, 1.0, 0.0),
]
BEHAVIOR = [1, -1, 0, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 127]
trace = (b"TLDT" + u8(1) + name(TENANT) + name(SYMBOL)
         + window_id + window_hash + u64(VERSION) + i64(END)
         + u8(1) + u8(len(GATES)) + b"".join(f32(g) for g in GATES)
         + u8(len(SELECTED))
         + b"".join(u8(l) + u16(e) + u8(a) + f32(g) + f32(b) + f32(s) + f32(h) + f32(c)
                    for l, e, a, g, b, s, h, c in SELECTED)
         + u8(0) + u8(0)
         + f32(0.75) + f32(0.125) + f32(0.125) + f32(0.875) + u32(0)
         + i64(3) + f64(4512.375) + f64(-12.5)
         + b"".join(i8(x) for x in BEHAVIOR))
trace_id = uuid8(hashlib.sha256(b"TLDT-ID:" + window_id + u64(VERSION)).digest())

print(json.dumps({
    "window": window.hex(), "window_sha256": window_hash.hex(), "window_id": window_id.hex(),
    "trace": trace.hex(), "trace_sha256": hashlib.sha256(trace).hexdigest(), "trace_id": trace_id.hex(),
}, indent=1))
