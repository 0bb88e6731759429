// Package expert owns the experts of the Mixture-of-Experts router: the
// Expert interface a router layer calls for each routed token, the built-in
// experts, and Guard, which isolates one expert from the rest.
//
// A layer's experts each turn a token's Input (the window's features and
// the layer's input embedding) into an Output: a hidden-layer expert
// (OutDim > 0) writes a vector that the router blends into the next layer's
// input; an action head (OutDim 0, in the last layer) writes scores over
// buy/sell/hold and a confidence, which the router blends into the action.
//
// Built-ins:
//
//   - Momentum, MeanReversion, OrderFlow: rule-based action heads over the
//     window features (hotpath/window), with the formulas in their docs.
//   - MLP: a dense two-layer perceptron, as a hidden-layer expert or as an
//     action head (softmax over three outputs); weights from
//     adapters/safetensors or NewMLPSeeded.
//
// Remote experts (out of process, with a deadline) live in
// adapters/remoteexpert and implement the same interface.
//
// What this package must never do:
//
//   - Allocate in Eval. Every expert and Guard on its normal path run with
//     zero allocations (tests prove it with testing.AllocsPerRun); only the
//     panic path of Guard allocates.
//   - Depend on anything but the inputs: no wall clock in an output, no map
//     iteration, no randomness except a fixed seed. Floating-point kernels
//     keep one order of operations, round every product that feeds a sum
//     (float32(a*b), float64(a*b)) so no FMA changes a bit, and use detExp
//     and detTanh instead of math.Exp and math.Tanh (whose amd64 assembly
//     takes an FMA path on some CPUs only), so outputs, and the
//     DecisionTrace hashes built on them, are the same on every machine.
//   - Import anything but the standard library and thunderline/hotpath
//     packages. gorgonia.org/tensor appears only in tests, as the reference
//     implementation and benchmark baseline of the MLP kernel.
package expert
