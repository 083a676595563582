// Package dockerfilecheck runs hardenkit's static Dockerfile rules: the
// checks that need nothing but the Dockerfile text, the build arguments and
// the context's .dockerignore patterns. They run before conversion, in the
// frontend and in the offline `hardenkit check` command, and report
// findings with the exact line range of the offending instruction.
//
// The Dockerfile is read with BuildKit's own parser and instructions
// packages, so line continuations, the escape directive, heredocs and ONBUILD
// triggers mean exactly what they mean to BuildKit. Words are expanded the way
// dockerfile2llb expands them (global ARGs, build arguments, ARG defaults and
// ENV, through shell.Lex), and RUN scripts are parsed as shell code (by
// pkg/shellscript, which the hardening controls share), so a
// check sees `curl -k` whether it was written literally, behind an ARG, or
// inside a RUN heredoc.
//
// Each control lives in its own file, which starts with the rule ids it owns
// and their CIS Docker Benchmark mapping, and declares those rules.Rule
// values; Rules lists them all. Multi-stage semantics: integrity rules
// (checksums, TLS, remote scripts, pins, secrets) apply to every stage,
// because a compromised builder stage compromises what it hands on; runtime
// configuration rules (USER, HEALTHCHECK, CMD/ENTRYPOINT, EXPOSE) apply only
// to the shipped stage — the --target, or the last stage — including what it
// inherits from the stages it is built FROM.
package dockerfilecheck
