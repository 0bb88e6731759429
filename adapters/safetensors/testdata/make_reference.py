"""Writes reference.safetensors with the reference safetensors package.

Run from this directory (needs safetensors==0.4.5 and numpy==2.1.3):

    python3 make_reference.py

The Go tests (reference_test.go) read the committed output and check every
value listed here. The file is regenerated only by hand: the metadata keys
come out in a hash order, so two runs need not give the same bytes.
"""

import numpy as np
from safetensors import serialize_file


def entry(arr, dtype=None):
    return {"dtype": dtype or arr.dtype.name, "shape": list(arr.shape), "data": arr.tobytes()}


def bf16_bytes(values):
    # Values chosen to be exact in bfloat16, so truncation is exact too.
    bits = np.array(values, dtype="<f4").view("<u4") >> 16
    return bits.astype("<u2").tobytes()


# float32 values whose float16 rounding is delicate: ties to even, overflow,
# subnormals, underflow.
F16_SRC = np.array(
    [
        1 + 2**-11,      # tie: rounds to even (1.0)
        1 + 3 * 2**-11,  # tie: rounds up
        65504, 65519, 65520, -1e5,
        2**-24, 2**-25, 1.5 * 2**-25, 1.5 * 2**-24, 2.5 * 2**-24, 1e-8,
        6.1e-5, 6.103515625e-05, 0.1, -7.3, 3.14159, 1 / 3, np.inf, -np.inf, -0.0,
    ],
    dtype="<f4",
)

W1 = (np.arange(12, dtype="<f4") * 0.25 - 1.5).reshape(3, 4)
B1 = np.array([0.1, -0.2, 0.3, -0.4], dtype="<f4")
W2 = (np.arange(12, dtype="<f4") / 8 - 0.5).reshape(4, 3)
B2 = np.array([0, 0.5, -0.5], dtype="<f4")
# A probe of the "mlp" head, computed in float64: softmax(tanh(x@W1+b1)@W2+b2).
PROBE_X = np.array([0.5, -1.0, 2.0], dtype="<f4")
h = np.tanh(PROBE_X.astype("f8") @ W1.astype("f8") + B1.astype("f8"))
y = h @ W2.astype("f8") + B2.astype("f8")
e = np.exp(y - y.max())
PROBE_SCORES = (e / e.sum()).astype("<f4")

with np.errstate(over="ignore"):  # 65520 and -1e5 overflow to ±inf on purpose
    f16_numpy = F16_SRC.astype("<f2")

tensors = {
    "mlp.w1": entry(W1),
    "mlp.b1": entry(B1),
    "mlp.w2": entry(W2),
    "mlp.b2": entry(B2),
    "probe.x": entry(PROBE_X),
    "probe.scores": entry(PROBE_SCORES),
    "half": entry(np.array([[0.5, -2, 65504], [2**-24, -0.0, 1 / 3]], dtype="<f2")),
    "f16_src": entry(F16_SRC),
    "f16_numpy": entry(f16_numpy),
    "bf": {"dtype": "bfloat16", "shape": [4], "data": bf16_bytes([1.0, -2.5, 3.140625, 2**-10])},
    "double": entry(np.array([1.5, -1e-3], dtype="<f8")),
    "scalar": entry(np.array(7.0, dtype="<f4")),
    "empty": entry(np.zeros((0,), dtype="<f4")),
    "ints": entry(np.array([1, -2], dtype="<i4")),
}

serialize_file(
    tensors,
    "reference.safetensors",
    metadata={"mlp.activation": "tanh", "mlp.role": "head", "source": "make_reference.py"},
)
