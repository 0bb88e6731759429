// Package decide is the decision stage of the data plane: it gathers the
// windows that close at the same boundary across partitions into routing
// batches, routes them through the layered hybrid Expert-Choice + Dynamic
// Top-P router to experts, blends their actions, applies risk policy, keeps
// a paper-trading book, and records a DecisionTrace per window.
//
// It runs on one goroutine and never allocates per window in steady state.
// It imports only hotpath packages.
package decide
