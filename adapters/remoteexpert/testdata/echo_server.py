"""An echo model served over the remoteexpert protocol, version 1.

Standard library only. Usage:

    python3 echo_server.py --socket PATH --in N --out M [--delay-ms D] [--name NAME]

It prints "ready" on stdout once it listens. Each connection is served on
its own thread. Protocol (all integers little-endian; see doc.go):

    frame:       u32 body length, then the body
    Hello:       u8 version=1, u8 type=1, u16 0
    HelloReply:  u8 1, u8 2, u16 name length L, u32 in_dim, u32 out_dim, L bytes name
    Eval:        u8 1, u8 3, u16 0, u32 id, u32 symbol, i64 end, u32 nf, u32 nd,
                 nf x f64 features, nd x f32 embedding
    Reply:       u8 1, u8 4, u8 flags (bit 0: abstain), u8 0, u32 id, f32 confidence,
                 3 x f32 scores, u32 nh, nh x f32 hidden

The echo model (the Go tests hold the same one as echoExpert):

    confidence = (symbol % 1000) / 1000, abstain = end < 0
    head (out = 0): scores = embedding[0:3] if in >= 3 else (0, 0, 1)
    hidden (out > 0): scores = (0, 0, 0),
        hidden[j] = embedding[j % nd] + features[j % nf]   (a missing term is 0)

Arithmetic is in float64 and rounded to float32 once, when packed.
"""

import argparse
import os
import socketserver
import struct
import sys
import time

VERSION = 1
HELLO, HELLO_REPLY, EVAL, REPLY = 1, 2, 3, 4
MAX_FRAME = 1 << 20


def read_exact(rfile, n):
    data = rfile.read(n)
    if data is None or len(data) != n:
        raise EOFError
    return data


def make_handler(args):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            try:
                while True:
                    (n,) = struct.unpack("<I", read_exact(self.rfile, 4))
                    if n < 2 or n > MAX_FRAME:
                        return
                    body = read_exact(self.rfile, n)
                    if body[0] != VERSION:
                        return
                    if body[1] == HELLO:
                        self.hello()
                    elif body[1] == EVAL:
                        if not self.eval(body):
                            return
                    else:
                        return
            except (EOFError, ConnectionError, BrokenPipeError):
                return

        def send(self, body):
            self.wfile.write(struct.pack("<I", len(body)) + body)
            self.wfile.flush()

        def hello(self):
            name = args.name.encode()
            self.send(struct.pack("<BBHII", VERSION, HELLO_REPLY, len(name), args.in_dim, args.out) + name)

        def eval(self, body):
            if len(body) < 28:
                return False
            _, _, _, rid, symbol, end, nf, nd = struct.unpack_from("<BBHIIqII", body, 0)
            if len(body) != 28 + 8 * nf + 4 * nd:
                return False
            feats = struct.unpack_from("<%dd" % nf, body, 28)
            emb = struct.unpack_from("<%df" % nd, body, 28 + 8 * nf)
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000.0)
            conf = (symbol % 1000) / 1000.0
            flags = 1 if end < 0 else 0
            if args.out == 0:
                scores = emb[0:3] if nd >= 3 else (0.0, 0.0, 1.0)
                hidden = []
            else:
                scores = (0.0, 0.0, 0.0)
                hidden = [
                    (emb[j % nd] if nd else 0.0) + (feats[j % nf] if nf else 0.0)
                    for j in range(args.out)
                ]
            reply = struct.pack("<BBBBIf3fI", VERSION, REPLY, flags, 0, rid, conf, *scores, len(hidden))
            reply += struct.pack("<%df" % len(hidden), *hidden)
            self.send(reply)
            return True

    return Handler


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--in", dest="in_dim", type=int, required=True)
    p.add_argument("--out", type=int, required=True)
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--name", default="echo")
    args = p.parse_args()
    try:
        os.unlink(args.socket)  # a socket file left by a killed server
    except FileNotFoundError:
        pass
    with Server(args.socket, make_handler(args)) as srv:
        print("ready", flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
