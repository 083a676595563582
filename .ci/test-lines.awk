# Filters `go test -v` output for the CI console: test names, results, and
# each test message with the start of its continuation lines, so that a
# failed command's own output (indented under the message) is visible
# without the full log, which stays in out/integration.log.
/^(=== RUN|[ \t]*--- |PASS|FAIL|ok|panic)/ { print; fflush(); more = 0; next }
/_test\.go:[0-9]+:/ {
	print; fflush()
	more = ($0 ~ /exit status|[Ee]rror|[Ff]ail/) ? 60 : 8
	next
}
more > 0 && /^        / { print; fflush(); more--; next }
{ more = 0 }
