"""Writes the fixed sample of write_test.go with the reference writer.

    python3 sample.py OUT

The Go test writes the same tensors with Write and compares the bytes. One
metadata key only: the reference orders metadata keys by hash.
"""

import sys

import numpy as np
from safetensors import serialize_file


def entry(arr, dtype=None):
    return {"dtype": dtype or arr.dtype.name, "shape": list(arr.shape), "data": arr.tobytes()}


bf = (np.array([3.0, -0.15625], dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
tensors = {
    "b": entry(np.array([[1, 2], [3, 4]], dtype="<f4")),
    "a": entry(np.array([0.5, -1, 2], dtype="<f4")),
    "h": entry(np.array([1, -0.5, 65504], dtype="<f2")),
    "z": {"dtype": "bfloat16", "shape": [2], "data": bf},
    "d": entry(np.array([0.25], dtype="<f8")),
    "s": entry(np.array(7, dtype="<f4")),
    "e": entry(np.zeros((0, 3), dtype="<f4")),
    'na\u00efve "q"\n\t\x01\\': entry(np.array([9], dtype="<f4")),
    "sep\u2028\u2029 <a&b> \x7f\b\f \\u2028": entry(np.array([10], dtype="<f4")),
}
serialize_file(tensors, sys.argv[1], metadata={"format": "pt"})
