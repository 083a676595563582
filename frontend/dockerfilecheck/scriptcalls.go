package dockerfilecheck

// ScriptCalls returns the simple commands of a POSIX shell script in
// source order, each as its words with quotes removed; a word that is not
// fully literal keeps its expansions as text ("$@", "$PORT"). Commands
// nested in conditions, loops and command substitutions are included.
//
// It is the RUN-script reader of the static rules, offered to the
// hardening controls so that an entrypoint script is read the same way.
func ScriptCalls(src string) [][]string {
	s := parseScript(src, 0)
	out := make([][]string, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, c.args)
	}
	return out
}
