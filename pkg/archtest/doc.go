// Package archtest holds the tests that keep the code's shape as
// docs/architecture.md describes it: which way imports run between the
// areas of the tree, that no library imports a command, and how long a
// function may grow. It has no code of its own; `go test ./...` runs it with
// the unit tests, so a change that breaks the shape fails like any other.
package archtest
