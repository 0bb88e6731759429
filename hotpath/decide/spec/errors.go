package spec

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is a config that does not decode or does not validate. Every
// error of Decode, of the schema's Validate methods and of the Parse
// functions built on them is one, so callers find the field with
// errors.As rather than by reading the message.
type FieldError struct {
	// Doc is what was read: "profile", "router config", "federation spec";
	// "" from a bare Validate (Locate fills it).
	Doc string
	// File is where it was read from: a path, or "request body".
	File string
	// Line is the 1-based line of the offending key or value; 0 when
	// unknown (validation works on decoded values, not on lines).
	Line int
	// Path is the field's full path, as "router.layers[0].p" or
	// "window.lenght"; "" when no one field is at fault (a YAML syntax
	// error, a document that is not a mapping).
	Path string
	// Reason says what is wrong, starting with the offending value where
	// there is one: `1.5: want a number in (0, 1]`.
	Reason string
}

// Error reads "<doc> <file>: line <n>: <path>: <reason>", leaving out the
// parts that are not known.
func (e *FieldError) Error() string {
	var b strings.Builder
	if src := strings.TrimSpace(e.Doc + " " + e.File); src != "" {
		b.WriteString(src + ": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Fieldf is a FieldError for path with a formatted reason.
func Fieldf(path, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Locate returns err as a *FieldError that names doc and file: a copy of
// the FieldError err is or wraps, with Doc and File filled when it has
// neither, or a FieldError naming no field whose reason is err's message.
// nil stays nil.
func Locate(err error, doc, file string) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		return &FieldError{Doc: doc, File: file, Reason: err.Error()}
	}
	c := *fe
	if c.Doc == "" && c.File == "" {
		c.Doc, c.File = doc, file
	}
	return &c
}
