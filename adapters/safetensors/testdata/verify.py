"""Reads a safetensors file with the reference package and prints it as JSON.

    python3 verify.py FILE

Output: {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values"}}}
with values as float64 (exact for every float32, float16 and bfloat16). The
file goes through safe_open (the reference parser, which validates offsets,
sizes and coverage) and deserialize; F32, F64 and F16 tensors are also read
with get_tensor and must agree. Needs safetensors==0.4.5 and numpy==2.1.3.
"""

import json
import sys

import numpy as np
from safetensors import deserialize, safe_open

NP = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8"}


def main(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    out = {"metadata": None, "tensors": {}}
    with safe_open(path, framework="numpy") as f:
        out["metadata"] = f.metadata()
        keys = sorted(f.keys())
        direct = {k: f.get_tensor(k) for k in keys if f.get_slice(k).get_dtype() in NP}
    for name, t in deserialize(raw):
        dt = t["dtype"]
        if dt == "BF16":
            vals = (np.frombuffer(bytes(t["data"]), dtype="<u2").astype("<u4") << 16).view("<f4")
        else:
            vals = np.frombuffer(bytes(t["data"]), dtype=NP[dt])
            ref = direct[name].reshape(-1)
            if not np.array_equal(vals, ref, equal_nan=True):
                raise SystemExit(f"{name}: get_tensor and deserialize disagree")
        values = [float(v) if np.isfinite(v) else str(v) for v in vals.astype("<f8")]
        out["tensors"][name] = {"dtype": dt, "shape": list(t["shape"]), "values": values}
    if sorted(out["tensors"]) != keys:
        raise SystemExit("safe_open and deserialize list different tensors")
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
