// Package router owns the per-layer routing kernels of the mixture of
// experts: the gate matmul, the row softmax, Expert-Choice buckets, Dynamic
// Top-P per token and the treatment of undercovered tokens (seed 004 §7).
// It turns one batch of token embeddings into an Assignment: token → kept
// experts with gate weights, expert → tokens, the softmax probabilities and
// the routing statistics of seed 004 §7 and §9.
//
// What it must never do:
//
//   - Allocate after construction. NewLayer copies the gate matrix once;
//     NewAssignment preallocates every output and scratch buffer for a
//     maximum batch size and expert count. Route writes into them and
//     allocates nothing (router_test.go proves it with
//     testing.AllocsPerRun). One Assignment belongs to one goroutine at a
//     time; a Layer is immutable and may be shared.
//   - Import anything but the standard library.
//   - Depend on anything but its input: no clock, no randomness, no
//     goroutines, no map iteration. The same batch gives the same bytes on
//     every run, whatever the number of partitions or cores that formed it,
//     and on every architecture: no step uses a fused multiply-add or a
//     platform math routine whose bits could differ (the exponential is
//     exp32, below), except the natural log inside the entropy statistic.
//
// Scratch buffers live in the Assignment beside the outputs (there is no
// separate workspace type), which is why an Assignment serves one goroutine
// at a time.
//
// # Kernels
//
// matmul.go holds the portable gate matmul (4 tokens × 2 experts in
// registers, at the scalar ceiling of about 2 flops per cycle). Built with
// GOEXPERIMENT=simd on amd64 (make build does), matmul_simd.go adds an AVX2
// kernel for the matmul (AVX-512 machines run it too), chosen at start-up
// from the CPU's features; exp32 stays scalar (an AVX-512 exp kernel was
// removed: no machine of this project can run, so test, it). Each lane performs exactly the scalar operations
// (VMULPS then VADDPS, never an FMA), so every kernel gives the same bits;
// the tests compare each kernel the machine can run with the naive loop.
//
// # Algorithm
//
// This section is the specification: testdata/reference.py implements it
// independently in NumPy and TestReferenceVectors checks that both agree.
// All arithmetic is IEEE-754 with round-to-nearest-even. "f32(x)" is a
// rounding to float32, "f64(x)" a widening to float64 (exact). Products are
// rounded before they are added: no fused multiply-add anywhere, which the
// Go code guarantees by writing float32(a*b)+c (the spec requires an explicit
// conversion to round). Sums run in the stated index order, sequentially.
//
// Inputs: n tokens, embedding X (float32, n×D row-major), gate matrix W
// (float32, D×E row-major), E experts, capacity factor c, threshold p, cap
// M (0 = no cap), policy for undercovered tokens.
//
//  1. Logits. L[i][e] = s_D where s_0 = +0 and
//     s_{d+1} = f32(s_d + f32(X[i][d]·W[d][e])) for d = 0, 1, ..., D-1.
//     Blocking and unrolling never change this order, so every token's
//     logits are the same whatever batch or block it is in.
//  2. Invalid tokens. A token with any non-finite logit (NaN or ±Inf, from a
//     NaN or Inf embedding value or from overflow) is invalid: its row of
//     Probs is NaN, no expert may pick it, it is neither routed nor
//     undercovered, and Stats.Invalid counts it. Non-finite gate weights are
//     rejected by NewLayer, so only embeddings (or overflow) make a token
//     invalid. All later steps see valid tokens only.
//  3. Softmax per valid token i. m = max_e L[i][e]; x_e = f32(L[i][e] − m);
//     q_e = exp32(x_e), the fixed float64 evaluation of e^x documented on
//     exp32 in exp.go (range reduction by ln 2, a degree-11 Taylor
//     polynomial in Estrin's order, each product rounded): it is within
//     1e-14 of e^x before its final rounding to float32, so it equals
//     f32(e^x) except within 1e-14 of a rounding boundary, and, unlike
//     math.Exp (assembly per architecture, FMA on some), it gives the same
//     bits everywhere. S = Σ_e f64(q_e) in float64, e ascending;
//     P[i][e] = f32(f64(q_e) · (1/S)) with 1/S computed in float64.
//     Entropy of the row (nats, float64): H_i = ln(S) − (1/S)·Σ_e f64(q_e)·f64(x_e)
//     summed over e ascending with q_e > 0, each product rounded to float64
//     (ln is the platform's: statistics are compared with a tolerance).
//  4. Capacity. k = ceil(n·c/E − 1e-9) evaluated in float64 as
//     ((n·c)/E) − 1e-9, then clamped to [1, n] (k = 0 when n = 0). The 1e-9
//     absorbs the binary rounding of decimal capacity factors: n=50, c=2.2,
//     E=10 gives k = 11 as decimal arithmetic says (50·2.2/10 is
//     11.000000000000002 in float64, whose plain ceiling would be 12).
//  5. Expert-Choice. Expert e picks the k valid tokens with the largest
//     P[i][e]; ties go to the lower token index. (Order tokens by P
//     descending, then index ascending, and take the first min(k, valid)
//     tokens.) The picks of expert e are its bucket; a token's assigned
//     experts are the experts whose buckets hold it.
//  6. Dynamic Top-P. For each token with at least one assigned expert, sort
//     its assigned experts by P[i][e] descending, ties by lower expert index:
//     e_1, e_2, ..., e_a. With C_j = Σ_{l≤j} f64(P[i][e_l]) (float64,
//     sequential), keep e_1..e_m where m is the smallest j with C_j ≥ p, or
//     m = a if no prefix reaches p; then if M > 0, m = min(m, M). The
//     cumulative probabilities are the token's softmax probabilities over
//     all E experts, never renormalized over the assigned ones. A dropped
//     expert frees the token's slot in its bucket. The token's coverage is
//     C_m.
//  7. Undercovered tokens are valid tokens assigned to no expert in step 5
//     (step 6 always keeps at least one). Stats.Undercovered counts them.
//     Under PolicyAbstain they get no expert. Under PolicyArgmax they are
//     taken in increasing token index; each goes to the expert with the
//     largest P[i][e] (ties: lower expert index) among experts whose load
//     (tokens kept after step 6 plus tokens given by this step so far) is
//     below k, and that load grows by one. If every expert is full the token
//     stays without experts. Stats.UndercoveredAssigned counts the tokens
//     that got an expert; their coverage is that expert's probability.
//  8. Gate weights. A token's kept experts e_1..e_m get
//     g_j = f32(f64(P[i][e_j]) / C_m): the kept probabilities renormalized
//     to sum to 1 (to within float32 rounding). If C_m = 0 (every kept
//     probability underflowed to 0) the gates are uniform, f32(1/m). A token
//     given one expert by step 7 has gate 1.
//  9. Output order. TokenExperts(i) lists experts in the order of step 6
//     (descending probability, ties by lower index). ExpertTokens(e) lists
//     the final tokens of expert e in increasing token index.
//
// # Statistics (Stats), all over the final assignment
//
//   - AvgExpertsPerToken = (Σ_i kept experts of i) / n, over all n tokens
//     (undercovered and invalid tokens count as 0).
//   - Loads L_e = len(ExpertTokens(e)); MaxExpertLoad = max_e L_e.
//   - LoadBalanceRatio = σ/μ where μ = Σ_e L_e / E and σ² = Σ_e (L_e − μ)² / E
//     (population standard deviation over experts, relative to the mean
//     load); 0 when no token is routed. 0 is perfectly even.
//   - CapacityUtilization = Σ_e L_e / (E·k); 0 when n = 0.
//   - PSaturation[b] counts routed tokens (tokens with at least one expert)
//     whose coverage C satisfies b = min(9, floor(10·C)), with 10·C in
//     float64.
//   - Entropy = mean of H_i over valid tokens (Σ in increasing token index,
//     divided by the number of valid tokens); 0 when there is none.
//   - Undercovered, UndercoveredAssigned, Invalid as above.
//
// Memory: an Assignment for maxTokens tokens and maxExperts experts holds
// O(maxTokens·maxExperts) words (about 34 bytes per token·expert pair), all
// made by NewAssignment.
package router
