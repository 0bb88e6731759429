// Package routermodel builds what the decision stage runs from a router
// config (engine/config): the decide.Model of one router version, with its
// gate matrices and feature projection (from a safetensors weights file, or
// seeded), each layer's experts behind their guards (built-in kinds, MLPs
// seeded or loaded from files, remote experts over a socket) and its shadow
// experts; and the stage's risk config.
//
// The same config gives the same model, bit for bit: seeded values come
// from PCG streams of the config's seed, never from time or map order. It
// never runs a stage, never journals and never imports another engine
// package but engine/config.
package routermodel
