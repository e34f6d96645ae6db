// Package fielderr is the error a core's Config.Validate returns for one
// setting: the setting's key (its name in a profile section, yaml style,
// e.g. "fr_timer" or "faults.0.multiplier") and what is wrong with it.
// The profile loader finds the key's line in the file from the key, so a
// core names its settings once and never knows about files.
package fielderr

import (
	"errors"
	"fmt"
)

// Error is one setting's problem.
type Error struct {
	Field string // the setting's key, relative to the core's section ("" for wiring)
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// New returns the problem of one field.
func New(field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// List collects problems in the order found.
type List []error

// Addf appends a field's problem.
func (l *List) Addf(field, format string, args ...any) { *l = append(*l, New(field, format, args...)) }

// Add appends err, with its fields (if any) under prefix ("faults.0").
func (l *List) Add(prefix string, err error) {
	Walk(err, func(field, msg string) {
		if prefix != "" {
			if field != "" {
				field = prefix + "." + field
			} else {
				field = prefix
			}
		}
		*l = append(*l, &Error{Field: field, Msg: msg})
	})
}

// Err joins the problems (nil if none).
func (l List) Err() error { return errors.Join(l...) }

// Walk calls f for every problem in err, through joined and wrapped
// errors; an error holding no *Error is a problem of no field.
func Walk(err error, f func(field, msg string)) {
	switch e := err.(type) {
	case nil:
		return
	case *Error:
		f(e.Field, e.Msg)
		return
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			Walk(x, f)
		}
		return
	}
	var fe *Error
	if u := errors.Unwrap(err); u != nil && errors.As(u, &fe) {
		Walk(u, f)
		return
	}
	f("", err.Error())
}
