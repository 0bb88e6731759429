package eye

import (
	"context"
	"net/http"
)

// FederationBackend is what a Backend that runs federated training also
// implements (the engine's, when the profile has a Postgres control
// plane): the /federations routes exist only then. Values are JSON-ready
// views, so this package needs none of the control plane's types.
type FederationBackend interface {
	// Federations lists the tenant's federations, newest first.
	Federations(ctx context.Context) (any, error)
	// Federation is one federation with its rounds, leases, artifacts and
	// rollups; ErrNotFound for an unknown id.
	Federation(ctx context.Context, id string) (any, error)
	// CreateFederation validates a FederationSpec (YAML; a *ConfigError or
	// a *spec.FieldError naming the field when it is invalid), records the federation and
	// starts it; it returns at once with the federation's id.
	CreateFederation(ctx context.Context, specYAML []byte) (id string, err error)
}

// federationSpecBytes bounds a FederationSpec body.
const federationSpecBytes = 256 << 10

func (s *Server) federationRoutes() []route {
	fb, ok := s.b.(FederationBackend)
	if !ok {
		return nil
	}
	return []route{
		{pattern: "/federations", name: "federations", methods: map[string]Role{http.MethodGet: RoleReadOnly, http.MethodPost: RoleAdmin},
			handle: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					v, err := fb.Federations(r.Context())
					if err != nil {
						writeBackendError(w, err)
						return
					}
					writeJSON(w, http.StatusOK, map[string]any{"federations": v})
					return
				}
				b, ok := readBody(w, r, federationSpecBytes)
				if !ok {
					return
				}
				id, err := fb.CreateFederation(r.Context(), b)
				if err != nil {
					writeBackendError(w, err)
					return
				}
				writeJSON(w, http.StatusAccepted, map[string]string{"id": id, "status": "started"})
			}},
		{pattern: "/federations/{id}", name: "federation", methods: get(RoleReadOnly),
			handle: func(w http.ResponseWriter, r *http.Request) {
				v, err := fb.Federation(r.Context(), r.PathValue("id"))
				if err != nil {
					writeBackendError(w, err)
					return
				}
				writeJSON(w, http.StatusOK, v)
			}},
	}
}
