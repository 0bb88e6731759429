"""Lifecycle events: one JSON object per line on stdout, appended to
<out-dir>/events.jsonl, and POSTed to the webhook (if any).

    {"event": "...", "round": n, "ts": unix_seconds,
     "client": "...",            (client.* events)
     "metrics": {name: number},  (numbers only)
     "artifact": {"path", "sha256", "size"},
     "reason": "..."}            (client.dropped, federation.failed)
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
import urllib.request

EVENTS = ("round.started", "round.completed", "client.joined", "client.dropped",
          "aggregate.completed", "federation.completed", "federation.failed")


def _clean_metrics(m):
    out = {}
    for k, v in (m or {}).items():
        if isinstance(v, bool):
            v = int(v)
        if isinstance(v, (int, float)) and math.isfinite(float(v)):
            out[str(k)] = v
    return out


class Emitter:
    def __init__(self, out_dir=None, webhook=None, stream=None, webhook_timeout=5.0):
        self.webhook = webhook
        self.stream = stream or sys.stdout
        self.timeout = webhook_timeout
        self.path = os.path.join(out_dir, "events.jsonl") if out_dir else None
        self.lock = threading.Lock()
        self.webhook_errors = 0

    def emit(self, event, round_, *, client=None, metrics=None, artifact=None, reason=None):
        assert event in EVENTS, event
        ev = {"event": event, "round": int(round_), "ts": round(time.time(), 3)}
        if client is not None:
            ev["client"] = str(client)
        if metrics is not None:
            ev["metrics"] = _clean_metrics(metrics)
        if artifact is not None:
            ev["artifact"] = artifact
        if reason:
            ev["reason"] = str(reason)
        line = json.dumps(ev, sort_keys=False)
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()
            if self.path:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
            if self.webhook:
                self._post(line.encode())
        return ev

    def _post(self, body):
        for attempt in range(2):
            try:
                req = urllib.request.Request(self.webhook, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    r.read()
                return
            except Exception as e:  # a webhook outage must not stop the federation
                if attempt == 1:
                    self.webhook_errors += 1
                    print(f"flower server: webhook {self.webhook}: {e}", file=sys.stderr, flush=True)
