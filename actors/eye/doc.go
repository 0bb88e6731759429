// Package eye is Thundereye (seed 004 §2, §9): the admin HTTP server and
// the live dashboard. It owns the HTTP surface, its authentication and the
// dashboard page; everything it shows or changes goes through a Backend,
// which the engine implements. It never imports thunderline/engine (the
// engine imports actors; the router schema it validates comes from the leaf
// package hotpath/decide/spec), never touches the hot path, never reads
// another library's error text, and never logs a token.
//
// # Routes and roles
//
// Roles are cumulative: read_only < operator < admin.
//
//	route                                   method        role
//	/healthz, /readyz                       GET           none
//	/dashboard (the page; / redirects)      GET           none (its data calls need a token)
//	/summary, /actors, /experts, /risk      GET           read_only
//	/router                                 GET           read_only (JSON; ?format=yaml or Accept: application/yaml for YAML)
//	/router                                 PUT           admin (body: a router config, YAML or JSON)
//	/experts/{layer}/{name}/restart         POST          operator
//	/experts/{layer}/{name}/force|unforce   POST          operator
//	/experts/{layer}/{name}/retire          POST          admin
//	/risk/deny                              GET           read_only
//	/risk/deny                              POST, DELETE  operator (body {"tenant", "symbol"}; DELETE also ?tenant=&symbol=)
//	/risk/halt                              GET           read_only
//	/risk/halt                              POST          operator (body {"on": bool})
//	/metrics                                GET           read_only (Prometheus, from Backend.Metrics)
//	/stream                                 GET           read_only (server-sent events, from Backend.Stream)
//	/debug/pprof/*                          GET, POST     admin
//
// A request is checked in this order: token (401 with WWW-Authenticate:
// Bearer), method (405 with Allow), role (403). An unknown path is a 404
// without a token check. Every error is JSON, {"code": …, "message": …},
// with "field" added for invalid_config: unauthorized 401, forbidden 403,
// not_found 404, method_not_allowed 405, bad_request 400, too_large 413,
// conflict 409, invalid_config 422, not_ready and unavailable 503,
// internal 500.
//
// PUT /router decodes the body with spec.ParseRouter (strict: an unknown
// key is an error), requires a version higher than the running one, and
// hands it to Backend.ReloadRouter; any refusal is a 422 naming the field
// by its full path ("router.layers[0].p", from the spec.FieldError or the
// backend's ConfigError), and the running version stays. Bodies are capped: Options.MaxBodyBytes
// (1 MiB) for PUT /router, 64 KiB for the JSON bodies.
//
// # Tokens
//
// Every route but /healthz, /readyz and the dashboard page needs
// "Authorization: Bearer <token>". Tokens come from the configuration
// (Options.Tokens, each with a role); when none is configured the CLI
// makes an admin token with GenerateToken (256 bits from crypto/rand,
// URL-safe) and prints it once. The server keeps only the sha256 of each
// token and compares the presented token's digest with every configured
// digest using crypto/subtle, without an early exit, so the timing says
// neither whether nor which token matched. The server logs no token, no
// Authorization header and no query string; refused tokens are counted
// (thunderline_admin_auth_failures_total) and logged at most once per 10 s.
//
// The one exception to the header rule is /stream: the browser's
// EventSource cannot set headers, so /stream, and only /stream, also
// accepts the token as ?token=. Anywhere else ?token= is ignored (401). A
// URL token can end up in browser history and proxy logs, so the dashboard
// keeps the token in the tab's sessionStorage, asks for it once, and uses it
// in the URL only for the stream; the server strips it from the URL before
// the backend's stream handler sees the request. The page also accepts
// /dashboard#token=<token> (a fragment is never sent to the server) and
// removes it from the address bar at once.
//
// # Listening
//
// The server listens on 127.0.0.1:8470 by default and refuses an address
// that is not loopback unless Options.AllowRemote is set (it speaks plain
// HTTP: put a TLS proxy in front). Timeouts: 5 s for headers, 30 s to
// read a request, 60 s to write a response (above pprof's default 30 s CPU
// profile), 120 s idle; /stream has no read or write deadline and ends on
// Shutdown. Responses carry Cache-Control: no-store, nosniff,
// Referrer-Policy: no-referrer and X-Frame-Options: DENY; the dashboard
// page a Content-Security-Policy that allows only its own inline script
// and style (by hash) and requests to its own origin.
//
// # Dashboard and stream
//
// The dashboard (dashboard.html, embedded; vanilla JS, no external
// resources) shows throughput, lag, backlog, window → decision latency and
// paper PnL with sparklines, the backpressure ladder step, the router's
// per-layer metrics, the experts with their actions, the risk kill switch
// and deny list, the actor tree, and the latest decisions. It is fed by the
// stream (summary and decision events, see Hub) and polls /experts and
// /risk every 2 s and /actors every 5 s. Hub is a ready-made
// Backend.Stream: the engine publishes a Summary about once a second and
// decisions from its trace consumer (never from the hot path).
package eye
