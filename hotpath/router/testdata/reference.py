#!/usr/bin/env python3
"""NumPy reference for hotpath/router: hybrid Expert-Choice + Dynamic Top-P.

Written from the specification in ../doc.go (the "Algorithm" and
"Statistics" sections), not from the Go code. Whole-array NumPy, the way a
researcher would write the router, except where the spec fixes an order of
floating-point operations (the gate matmul and the softmax sums), which is
what lets the Go test demand identical assignments rather than "close".

    python3 testdata/reference.py --out testdata/vectors.json   # test vectors
    python3 testdata/reference.py --bench                       # one JSON line

Requires numpy==2.1.3 (other 2.x versions should give the same vectors; the
random streams of np.random.default_rng are stable across them).
"""

import argparse
import json
import math
import sys
import time

import numpy as np

POLICIES = ("abstain", "argmax")


# ---------------------------------------------------------------------------
# The algorithm (doc.go steps 1-9)


def gate_logits(emb, wg):
    """Step 1: s_{d+1} = f32(s_d + f32(x_d * w_d)), d ascending, s_0 = +0.

    Elementwise float32 ufuncs round every product and every sum (NumPy
    never fuses them), so this is the spec's order exactly. np.matmul would
    hand the sum to BLAS, which reorders and fuses; see gate_logits_blas.
    """
    n, dim = emb.shape
    acc = np.zeros((n, wg.shape[1]), dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow → invalid token
        for d in range(dim):
            acc = acc + emb[:, d, None] * wg[None, d, :]
    return acc


def gate_logits_blas(emb, wg):
    """What a NumPy user would write; not bit-exact with the spec (BLAS)."""
    return emb @ wg


# exp32 (doc.go step 3, exp.go): range reduction by ln 2, then the degree-11
# Taylor polynomial of e^r in Estrin's order, every product rounded to
# float64 before it is added. NumPy ufuncs never fuse, so this is bit-exact.
LOG2E = float.fromhex("0x1.71547652b82fep+0")
LN2_HI = float.fromhex("0x1.62e42feep-1")
LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
SHIFTER = 1.5 * 2.0**52
C = [1 / math.factorial(j) for j in range(12)]


def exp32(x):
    """float32 e^x for float32 x <= 0, per the spec; 0 below -104."""
    xd = x.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        t = xd * LOG2E + SHIFTER
        k = t - SHIFTER  # an integer: t's low mantissa bits
        r = (xd - k * LN2_HI) - k * LN2_LO
        r2 = r * r
        r4 = r2 * r2
        r8 = r4 * r4
        q03 = (1 + r) + r2 * (C[2] + C[3] * r)
        q47 = (C[4] + C[5] * r) + r2 * (C[6] + C[7] * r)
        q8b = (C[8] + C[9] * r) + r2 * (C[10] + C[11] * r)
        p = (q03 + r4 * q47) + r8 * q8b
        ok = x >= -104.0
        scale = np.ldexp(1.0, np.where(ok, k, 0).astype(np.int64))  # 2^k, exact
        return np.where(ok, p * scale, 0.0).astype(np.float32)


def exp_np(x):
    """What a NumPy user writes: float32 exp (SIMD, not the spec's bits)."""
    return np.exp(x)


def softmax(logits, exp=exp32):
    """Steps 2-3: validity, probabilities (float32), per-row entropy."""
    n, n_exp = logits.shape
    valid = np.isfinite(logits).all(axis=1)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # invalid rows
        m = logits.max(axis=1, keepdims=True)
        x = logits - m  # float32 - float32: rounded to float32
        x64 = x.astype(np.float64)
        q = exp(x)
        q64 = q.astype(np.float64)
        s = np.zeros(n)
        h = np.zeros(n)
        for e in range(n_exp):  # sequential, e ascending (not pairwise)
            s = s + q64[:, e]
            h = h + np.where(q[:, e] > 0, q64[:, e] * x64[:, e], 0.0)
        inv = 1.0 / s
        probs = (q64 * inv[:, None]).astype(np.float32)
        entropy = np.log(s) - inv * h
    probs[~valid] = np.nan
    entropy[~valid] = np.nan
    return probs, valid, entropy


def capacity(n, c, n_exp):
    """Step 4: k = ceil(n*c/E - 1e-9) clamped to [1, n]."""
    if n == 0:
        return 0
    k = math.ceil(n * c / n_exp - 1e-9)
    return min(max(k, 1), n)


def route(emb, wg, c, p, cap, policy, matmul=gate_logits, exp=exp32):
    n = emb.shape[0]
    n_exp = wg.shape[1]
    probs, valid, entropy = softmax(matmul(emb, wg), exp)
    n_valid = int(valid.sum())
    k = capacity(n, c, n_exp)
    tokens = np.arange(n)
    experts = np.arange(n_exp)

    # Step 5, Expert-Choice: per column, sort tokens by probability
    # descending then index ascending (invalid tokens last), take the top.
    score = np.where(valid[:, None], probs, -np.inf)
    order = np.lexsort((np.broadcast_to(tokens[:, None], score.shape), -score), axis=0)
    assigned = np.zeros((n, n_exp), dtype=bool)
    top = order[: min(k, n_valid)]
    assigned[top, np.broadcast_to(experts, top.shape)] = True

    # Step 6, Dynamic Top-P: per row, assigned experts by probability
    # descending then index ascending; cumulative sums in float64.
    p64 = probs.astype(np.float64)
    rank = np.lexsort((np.broadcast_to(experts, score.shape), -np.where(assigned, p64, -1.0)), axis=1)
    sorted_p = np.take_along_axis(p64, rank, axis=1)
    sorted_a = np.take_along_axis(assigned, rank, axis=1)
    n_assigned = assigned.sum(axis=1)
    cum = np.cumsum(np.where(sorted_a, sorted_p, 0.0), axis=1)  # add.accumulate: sequential
    reached = (cum >= p) & sorted_a
    keep = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, n_assigned)
    if cap > 0:
        keep = np.minimum(keep, cap)
    kept = np.arange(n_exp)[None, :] < keep[:, None]
    token_experts = [rank[i, : keep[i]].tolist() for i in range(n)]
    load = np.zeros(n_exp, dtype=np.int64)
    np.add.at(load, rank[kept], 1)

    # Step 7, undercovered tokens, in increasing index.
    status = np.where(valid, "routed", "invalid").astype(object)
    under = np.flatnonzero(valid & (n_assigned == 0))
    status[under] = "undercovered"
    argmaxed = 0
    if policy == "argmax":
        for i in under:
            room = load < k
            if not room.any():
                continue
            cand = np.flatnonzero(room)
            best = cand[np.lexsort((cand, -p64[i, cand]))[0]]
            token_experts[i] = [int(best)]
            load[best] += 1
            status[i] = "argmax"
            argmaxed += 1

    # Step 8, gates; coverage for the histogram.
    token_gates = []
    coverage = []
    for i in range(n):
        ex = token_experts[i]
        if not ex:
            token_gates.append([])
            continue
        kp = p64[i, ex]
        cov = 0.0
        for v in kp:  # sequential, in kept order
            cov += v
        if cov > 0:
            g = (kp / cov).astype(np.float32)
        else:
            g = np.full(len(ex), 1.0 / len(ex)).astype(np.float32)
        token_gates.append(g)
        coverage.append(cov)

    # Step 9, expert -> tokens in increasing token index.
    expert_tokens = [[] for _ in range(n_exp)]
    for i in range(n):
        for e in token_experts[i]:
            expert_tokens[e].append(i)

    loads = np.array([len(t) for t in expert_tokens], dtype=np.float64)
    total = loads.sum()
    hist = np.zeros(10, dtype=np.int64)
    for cov in coverage:
        hist[min(9, int(math.floor(10 * cov)))] += 1
    stats = {
        "avg_experts_per_token": total / n if n else 0.0,
        "load_balance_ratio": float(loads.std() / loads.mean()) if total > 0 else 0.0,
        "capacity_utilization": total / (n_exp * k) if n else 0.0,
        "p_saturation": hist.tolist(),
        "entropy": float(entropy[valid].mean()) if n_valid else 0.0,
        "undercovered": int(len(under)),
        "undercovered_assigned": argmaxed,
        "invalid": int(n - n_valid),
        "max_expert_load": int(loads.max()) if n_exp else 0,
    }
    return {
        "k": k,
        "probs": probs,
        "valid": valid,
        "token_experts": token_experts,
        "token_gates": token_gates,
        "status": status.tolist(),
        "expert_tokens": expert_tokens,
        "stats": stats,
    }


def route_dense(emb, wg, c, p, cap, policy, matmul=gate_logits_blas, fast_softmax=True):
    """The same routing, whole-array only, with dense n×E outputs.

    This is what --bench times as "ns_per_token": the way one would route in
    NumPy for speed (BLAS matmul, float32 np.exp, pairwise sums, no Python
    loop over tokens except for undercovered tokens under argmax). With
    matmul=gate_logits and fast_softmax=False it must equal route(), which
    generate() checks on every run.
    """
    logits = matmul(emb, wg)
    n, n_exp = logits.shape
    if fast_softmax:
        valid = np.isfinite(logits).all(axis=1)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            q = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = q / q.sum(axis=1, keepdims=True)
            lp = np.log(probs)
            ent = -np.where(probs > 0, probs * lp, 0).sum(axis=1)
    else:
        probs, valid, ent = softmax(logits)
    n_valid = int(valid.sum())
    k = capacity(n, c, n_exp)
    score = np.where(valid[:, None], probs, -np.inf)
    top = np.argsort(-score, axis=0, kind="stable")[: min(k, n_valid)]
    assigned = np.zeros((n, n_exp), dtype=bool)
    np.put_along_axis(assigned, top, True, axis=0)
    p64 = probs.astype(np.float64)
    neg = -np.where(assigned, p64, -1.0)
    rank = np.argsort(neg, axis=1, kind="stable")
    sorted_p = np.take_along_axis(p64, rank, axis=1)
    sorted_a = np.take_along_axis(assigned, rank, axis=1)
    n_assigned = assigned.sum(axis=1)
    cum = np.cumsum(np.where(sorted_a, sorted_p, 0.0), axis=1)
    reached = (cum >= p) & sorted_a
    keep = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, n_assigned)
    if cap > 0:
        keep = np.minimum(keep, cap)
    kept_sorted = np.arange(n_exp)[None, :] < keep[:, None]
    kept = np.zeros((n, n_exp), dtype=bool)
    np.put_along_axis(kept, rank, kept_sorted, axis=1)
    load = kept.sum(axis=0)
    under = np.flatnonzero(valid & (n_assigned == 0))
    argmaxed = 0
    if policy == "argmax":
        for i in under:
            cand = np.flatnonzero(load < k)
            if cand.size:
                best = cand[np.argmax(p64[i, cand])]  # first maximum: lowest index
                kept[i, best] = True
                load[best] += 1
                argmaxed += 1
    cov = np.where(kept, p64, 0.0).sum(axis=1)
    m = kept.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gates = np.where(kept, np.where(cov[:, None] > 0, p64 / cov[:, None], 1.0 / np.maximum(m, 1)[:, None]), 0.0)
    gates = gates.astype(np.float32)
    routed = m > 0
    total = float(load.sum())
    stats = {
        "avg_experts_per_token": total / n,
        "load_balance_ratio": float(load.std() / load.mean()) if total > 0 else 0.0,
        "capacity_utilization": total / (n_exp * k),
        "p_saturation": np.bincount(np.minimum(9, np.floor(10 * cov[routed]).astype(int)), minlength=10).tolist(),
        "entropy": float(ent[valid].mean()) if n_valid else 0.0,
        "undercovered": int(under.size),
        "undercovered_assigned": argmaxed,
        "invalid": int(n - n_valid),
        "max_expert_load": int(load.max()),
    }
    return kept, gates, stats


# ---------------------------------------------------------------------------
# Test vectors


def f32(values):
    """float32 values as the shortest decimals that round-trip to float32.

    Go decodes JSON numbers into float32 with strconv.ParseFloat(s, 32), so
    these come back bit-exact. NaN becomes null.
    """
    return [None if np.isnan(v) else float(str(v)) for v in np.asarray(values, dtype=np.float32).ravel()]


NONFINITE = {"nan": np.float32("nan"), "inf": np.float32("inf"), "-inf": np.float32("-inf")}


def make_groups():
    """Inputs: seeded random embeddings and gates, plus crafted ties."""
    groups = []

    def group(name, emb, wg, runs, nonfinite=(), emb_ref=None):
        groups.append({"name": name, "emb": emb, "wg": wg, "runs": runs,
                       "nonfinite": list(nonfinite), "emb_ref": emb_ref})

    def run(c, p, cap=0, policy="abstain"):
        return {"capacity_factor": c, "p": p, "max_experts_per_token": cap, "policy": policy}

    both = lambda c, p, cap=0: [run(c, p, cap, pol) for pol in POLICIES]

    # The benchmark shape and the seed's layer 0 (16 experts, c 2.0, p 0.65).
    rng = np.random.default_rng(1)
    emb = rng.standard_normal((256, 64)).astype(np.float32)
    wg16 = (0.25 * rng.standard_normal((64, 16))).astype(np.float32)
    group("main_e16", emb, wg16,
          both(2.0, 0.65) + both(2.0, 0.65, 2) + both(1.0, 0.9) + both(0.5, 0.5) + [run(2.0, 1.0)])
    # The seed's layers 1 and 2 on the same tokens.
    wg12 = (0.25 * rng.standard_normal((64, 12))).astype(np.float32)
    group("seed_layer1_e12", None, wg12, both(1.8, 0.6) + both(0.7, 0.6, 3), emb_ref="main_e16")
    wg8 = (0.25 * rng.standard_normal((64, 8))).astype(np.float32)
    group("seed_layer2_e8", None, wg8, both(1.6, 0.55) + both(0.6, 0.8, 1), emb_ref="main_e16")

    # Ties: duplicated token rows (equal probabilities: lower token wins a
    # bucket) and duplicated expert columns (lower expert ranks first).
    rng = np.random.default_rng(2)
    emb = rng.standard_normal((64, 16)).astype(np.float32)
    emb[1::2] = emb[0::2]          # every odd token repeats the even one
    emb[40:56] = emb[40]           # and a block of 16 identical tokens
    wg = (0.4 * rng.standard_normal((16, 8))).astype(np.float32)
    wg[:, 5] = wg[:, 2]            # experts 2 and 5 always tie
    wg[:, 7] = wg[:, 2]            # and 7
    group("ties_e8", emb, wg, both(2.0, 0.65) + both(0.5, 0.65) + both(1.0, 1.0, 2) + both(3.0, 0.3))

    # Uniform scores: W_g = 0, every probability 1/E, every tie by index.
    rng = np.random.default_rng(3)
    emb = rng.standard_normal((40, 8)).astype(np.float32)
    group("uniform_e8", emb, np.zeros((8, 8), np.float32),
          both(2.0, 1.0) + both(2.0, 0.65) + both(1.0, 0.01))

    # Non-finite embeddings and overflow: invalid tokens.
    rng = np.random.default_rng(4)
    emb = rng.standard_normal((48, 16)).astype(np.float32)
    emb[20] = np.float32(3e38)     # finite, but the logits overflow
    wg = (0.5 * rng.standard_normal((16, 6))).astype(np.float32)
    group("nonfinite_e6", emb, wg, both(1.5, 0.7) + both(0.5, 0.7),
          nonfinite=[[3, 0, "nan"], [10, 5, "inf"], [11, 15, "-inf"], [47, 7, "nan"]])

    # Peaked scores: probabilities that underflow to 0 (uniform gates).
    rng = np.random.default_rng(5)
    emb = rng.standard_normal((100, 32)).astype(np.float32)
    wg = (4.0 * rng.standard_normal((32, 12))).astype(np.float32)
    group("peaked_e12", emb, wg, both(3.0, 0.99) + both(1.2, 1.0, 4))

    # Small shapes, including the capacity rounding case n=50, c=2.2, E=10.
    for seed, (n, dim, n_exp, runs) in enumerate([
        (1, 1, 1, both(1.0, 0.5)),
        (5, 3, 7, both(0.5, 0.3) + both(4.0, 0.95, 2)),
        (17, 5, 3, both(1.3, 0.4) + both(0.6, 1.0)),
        (50, 4, 10, both(2.2, 0.75) + both(1.1, 0.5, 1)),
        (300, 24, 32, both(1.0, 0.65) + both(4.0, 0.2, 4)),
    ], start=10):
        rng = np.random.default_rng(seed)
        emb = rng.standard_normal((n, dim)).astype(np.float32)
        wg = (rng.standard_normal((dim, n_exp)) / math.sqrt(dim) * 2).astype(np.float32)
        group(f"small_n{n}_d{dim}_e{n_exp}", emb, wg, runs)
    return groups


def check_exp(xs):
    """The spec's exp32 against NumPy's float64 exp rounded to float32."""
    xs = xs[np.isfinite(xs) & (xs <= 0)]
    ref = np.exp(xs.astype(np.float64)).astype(np.float32)
    return int(xs.size), int(np.count_nonzero(exp32(xs) != ref))


def generate(path):
    out_groups = []
    sweep = np.linspace(-104, 0, 2_000_001, dtype=np.float32)  # and a dense sweep
    exp_values, exp_differ = check_exp(sweep)
    embs = {}
    total_runs = 0
    for g in make_groups():
        emb = embs[g["emb_ref"]] if g["emb_ref"] else g["emb"].copy()
        for tok, dim, kind in g["nonfinite"]:
            emb = emb.copy()
            emb[tok, dim] = NONFINITE[kind]
        embs[g["name"]] = emb
        n, dim = emb.shape
        n_exp = g["wg"].shape[1]
        og = {"name": g["name"], "n": n, "dim": dim, "experts": n_exp}
        if g["emb_ref"]:
            og["emb_ref"] = g["emb_ref"]
        else:
            og["emb"] = f32(g["emb"])
        og["nonfinite"] = g["nonfinite"]
        og["wg"] = f32(g["wg"])
        with np.errstate(invalid="ignore", over="ignore"):
            logits = gate_logits(emb, g["wg"])
            v, d = check_exp((logits - logits.max(axis=1, keepdims=True)).ravel())
        exp_values += v
        exp_differ += d
        runs = []
        probs = None
        for cfg in g["runs"]:
            r = route(emb, g["wg"], cfg["capacity_factor"], cfg["p"], cfg["max_experts_per_token"], cfg["policy"])
            if probs is None:
                probs = r["probs"]
            kept, gates, _ = route_dense(emb, g["wg"], cfg["capacity_factor"], cfg["p"],
                                         cfg["max_experts_per_token"], cfg["policy"],
                                         matmul=gate_logits, fast_softmax=False)
            for i, ex in enumerate(r["token_experts"]):
                if sorted(ex) != np.flatnonzero(kept[i]).tolist() or \
                        not np.array_equal(gates[i, ex], np.asarray(r["token_gates"][i], np.float32)):
                    sys.exit(f"{g['name']} {cfg}: route_dense disagrees with route at token {i}")
            runs.append({
                "config": cfg,
                "k": r["k"],
                "token_experts": r["token_experts"],
                "token_gates": [f32(gt) for gt in r["token_gates"]],
                "status": r["status"],
                "expert_tokens": r["expert_tokens"],
                "stats": r["stats"],
            })
        og["probs"] = [None if not v else f32(row) for row, v in zip(probs, np.isfinite(probs).all(axis=1))]
        og["runs"] = runs
        total_runs += len(runs)
        out_groups.append(og)
    doc = {
        "format": 1,
        "generator": "hotpath/router/testdata/reference.py",
        "numpy": np.__version__,
        "spec": "hotpath/router/doc.go",
        "tolerance": {"prob_abs": 1e-6, "gate_abs": 1e-6, "stat_rel": 1e-9},
        "exp_check": {"values": exp_values, "differ_from_float32_np_exp": exp_differ},
        "groups": out_groups,
    }
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: {len(out_groups)} groups, {total_runs} runs; exp32 equals "
          f"float32(np.exp) on {exp_values - exp_differ}/{exp_values} inputs", file=sys.stderr)


# ---------------------------------------------------------------------------
# Benchmark


def bench(iterations, repeats):
    """Best-of-repeats mean time per route of n=256, D=64, E=16, c=2, p=0.65."""
    rng = np.random.default_rng(1)
    emb = rng.standard_normal((256, 64)).astype(np.float32)
    wg = (0.25 * rng.standard_normal((64, 16))).astype(np.float32)
    result = {"impl": "numpy", "numpy": np.__version__, "n": 256, "dim": 64, "experts": 16,
              "capacity_factor": 2.0, "p": 0.65, "iterations": iterations, "repeats": repeats}
    dense = lambda: route_dense(emb, wg, 2.0, 0.65, 0, "abstain")
    exact = lambda: route(emb, wg, 2.0, 0.65, 0, "abstain")
    for key, fn in (("ns_per_token", dense), ("ns_per_token_reference", exact)):
        fn()  # warm up
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            for _ in range(iterations):
                fn()
            best = min(best, (time.perf_counter_ns() - t0) / iterations)
        result[key] = round(best / 256, 1)
    # ns_per_token: route_dense, whole-array NumPy as one would write it for
    # speed (BLAS matmul, float32 exp, dense outputs); the figure to compare
    # Go against. ns_per_token_reference: route(), the spec-exact reference
    # that writes the test vectors (per-token Python lists), for information.
    print(json.dumps(result))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="write test vectors to this JSON file")
    ap.add_argument("--bench", action="store_true", help="time NumPy routing, print one JSON line")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if not args.out and not args.bench:
        ap.error("give --out PATH and/or --bench")
    if args.out:
        generate(args.out)
    if args.bench:
        bench(args.iterations, args.repeats)


if __name__ == "__main__":
    main()
