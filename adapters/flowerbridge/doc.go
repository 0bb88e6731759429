// Package flowerbridge starts and supervises the processes of a real
// Flower federation (the flwr package, pinned in requirements.txt): the
// server (adapters/flower/server.py, with the spec's strategy) and its
// clients (adapters/flower/client.py, each on its own site's training
// slice), and turns the server's lifecycle events — one JSON object per
// line on its stdout — into Go values for the engine's federation actor.
//
// It never sends training data anywhere: a client reads its slice from its
// own disk; the bridge only passes paths and addresses on command lines.
// It never logs key material: TLS files are passed by path.
package flowerbridge
