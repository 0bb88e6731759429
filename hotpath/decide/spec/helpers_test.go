package spec

import (
	"errors"
	"strings"
	"testing"
)

// checkFieldError returns the *FieldError err is or wraps, failing the
// test when there is none, and flagging one that does not name wantPath
// with wantReason in its reason.
func checkFieldError(t *testing.T, what string, err error, wantPath, wantReason string) *FieldError {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("%s: error %v, want a *FieldError", what, err)
	}
	if fe.Path != wantPath || !strings.Contains(fe.Reason, wantReason) {
		t.Errorf("%s: %#v, want path %q and %q in the reason", what, fe, wantPath, wantReason)
	}
	return fe
}
