// Package lease owns the runner channel's trust: client leases handed out
// as signed manifests over a mutual-TLS, pull-only endpoint (issue 7; seed
// 000: "Runner channel uses mTLS; manifests are signed (JWS) with
// short-lived identities", "pull-only").
//
//   - Manifest: what a client may do under one lease (the Flower server to
//     join, its dataset slice, its epoch and token budget, its expiry).
//   - Signer / Verify: manifests as JWS compact tokens. Signer holds an
//     Ed25519 key that signs for a ttl, then is replaced; a retired key's
//     public half stays in JWKS until the last manifest it signed expires.
//     Verify is the client side.
//   - PKI: the CA, server and client certificates of the channel, their
//     TLS configurations, and PEM files a Python Flower client can load.
//   - Server: POST /leases/{id}/claim and GET /jwks over that channel,
//     backed by a Store (Postgres in the engine).
//
// Security rules:
//
//   - One algorithm: EdDSA (Ed25519). Verify passes only EdDSA to go-jose's
//     parser, looks the kid up in the given key set (never a key the token
//     carries) and accepts only an Ed25519 public key for it; none, HMAC,
//     RSA and ECDSA tokens are refused. A token must be in canonical
//     compact form, so one manifest has one spelling.
//   - Short-lived keys and manifests: a key signs for ttl; a manifest lives
//     at most ttl (the server caps it and the signer refuses longer), so no
//     key is published for more than 2·ttl. Expiry has no leeway; issue
//     time has ClockSkew.
//   - Identity comes from the certificate only: the CN of the client
//     certificate verified against the PKI's CA in a TLS 1.3 handshake the
//     server requires. No header, query or body names the client.
//   - Pull-only: clients call the server; the server never dials a client.
//
// It must never log, print or write a private key or a manifest token:
// Signer and PKI format as summaries, the server logs ids and errors only,
// WritePEM writes leaf keys 0600 and never the CA key.
package lease
