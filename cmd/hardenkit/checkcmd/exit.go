// Package checkcmd implements `hardenkit check` (the static Dockerfile
// rules, offline, no daemon) and `hardenkit rules` (the rule catalog). The
// cobra commands are thin shells over Check and Rules, which take plain
// options and writers so tests and other front ends can call them.
package checkcmd

import "fmt"

// Exit codes of `hardenkit check`.
const (
	// ExitClean: no enforced violation (warnings and waived findings are
	// fine).
	ExitClean = 0
	// ExitViolations: at least one enforced violation.
	ExitViolations = 1
	// ExitUsage: bad flags or arguments, an unreadable or invalid
	// Dockerfile, policy, exceptions or .dockerignore.
	ExitUsage = 2
)

// ExitError is an error with the process exit code it should end in. main
// maps it with errors.As; any other error is a plain failure.
type ExitError struct {
	// Code is the exit code (ExitViolations or ExitUsage).
	Code int
	// Err says what happened.
	Err error
}

// Error implements error.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error, so errdefs.Sources and errors.As
// still see Dockerfile locations through it.
func (e *ExitError) Unwrap() error { return e.Err }

// usageErr wraps err as a usage or configuration error (exit 2).
func usageErr(err error) error {
	return &ExitError{Code: ExitUsage, Err: err}
}

// usagef formats a usage or configuration error (exit 2).
func usagef(format string, args ...any) error {
	return usageErr(fmt.Errorf(format, args...))
}
