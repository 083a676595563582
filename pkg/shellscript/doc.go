// Package shellscript is the POSIX shell-script reader of the static
// Dockerfile rules and the hardening controls: it parses sh/bash code (a RUN
// script, an entrypoint script) into the simple commands it runs, the
// pipelines between them and the variables it assigns, following nested
// `sh -c` strings, heredocs read by a shell and command substitutions.
//
// It also reads command lines the way the commands themselves do: which
// options take a value (OptSpec), and which wrappers (sudo, env, nice,
// timeout, …) run another command (Unwrap). It takes plain text, so both
// the Dockerfile checks and the image hardening read a script the same way.
package shellscript
