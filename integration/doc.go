// Package integration holds hardenkit's integration tests: every one runs
// against a real buildkitd (built from go.mod, root, OCI worker, runc), the
// dev environment's local registry and base images, and the frontend image
// pushed there and used through `# syntax=` as a user would. They need root
// and never skip: `make test-integration` runs them, in CI too.
package integration
