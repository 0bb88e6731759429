package eye

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"thunderline/hotpath/decide/spec"
)

// apiError is the body of every error response.
type apiError struct {
	Code    string `json:"code"` // unauthorized | forbidden | not_found | method_not_allowed | bad_request | too_large | conflict | invalid_config | not_ready | unavailable | internal | misdirected
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // invalid_config: the offending key
}

// Error codes and their statuses.
var codeStatus = map[string]int{
	"unauthorized":       http.StatusUnauthorized,
	"forbidden":          http.StatusForbidden,
	"not_found":          http.StatusNotFound,
	"method_not_allowed": http.StatusMethodNotAllowed,
	"bad_request":        http.StatusBadRequest,
	"too_large":          http.StatusRequestEntityTooLarge,
	"conflict":           http.StatusConflict,
	"invalid_config":     http.StatusUnprocessableEntity,
	"not_ready":          http.StatusServiceUnavailable,
	"unavailable":        http.StatusServiceUnavailable,
	"internal":           http.StatusInternalServerError,
	"misdirected":        http.StatusMisdirectedRequest,
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"internal","message":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code, msg string) {
	writeJSON(w, codeStatus[code], apiError{Code: code, Message: msg})
}

// writeBackendError maps a Backend error to its status.
func writeBackendError(w http.ResponseWriter, err error) {
	var ce *ConfigError
	var fe *spec.FieldError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ce):
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Code: "invalid_config", Message: ce.Error(), Field: ce.Field})
	case errors.As(err, &fe):
		writeBackendError(w, configError(fe))
	case errors.As(err, &mbe):
		writeError(w, "too_large", err.Error())
	case errors.Is(err, ErrNotFound):
		writeError(w, "not_found", err.Error())
	case errors.Is(err, ErrConflict):
		writeError(w, "conflict", err.Error())
	case errors.Is(err, ErrBadRequest):
		writeError(w, "bad_request", err.Error())
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, "unavailable", err.Error())
	default:
		writeError(w, "internal", err.Error())
	}
}

// configError turns a config parsing error (spec.ParseRouter's) into a
// *ConfigError naming the field its spec.FieldError names (none for a
// syntax error, or an error that is no FieldError).
func configError(err error) *ConfigError {
	var fe *spec.FieldError
	if !errors.As(err, &fe) {
		return &ConfigError{Reason: err.Error()}
	}
	ce := &ConfigError{Field: fe.Path, Reason: fe.Reason}
	if fe.Line > 0 {
		ce.Reason = fmt.Sprintf("line %d: %s", fe.Line, fe.Reason)
	}
	return ce
}
