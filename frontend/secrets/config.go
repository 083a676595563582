package secrets

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ScanEnv scans an image config's Env ("NAME=VALUE" entries). Findings
// are at "env:NAME".
func (s *Scanner) ScanEnv(env []string) []Finding {
	var out []Finding
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		out = append(out, s.findings(WhereEnv+name, s.scanAssignment(context.Background(), name, value))...)
	}
	return out
}

// ScanLabels scans an image config's labels. Findings are at
// "label:KEY".
func (s *Scanner) ScanLabels(labels map[string]string) []Finding {
	return s.scanMap(WhereLabel, labels)
}

// ScanBuildArgs scans the build arguments given to the frontend. Findings
// are at "build-arg:NAME".
func (s *Scanner) ScanBuildArgs(args map[string]string) []Finding {
	return s.scanMap(WhereBuildArg, args)
}

func (s *Scanner) scanMap(prefix string, m map[string]string) []Finding {
	var out []Finding
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, s.findings(prefix+k, s.scanAssignment(context.Background(), k, m[k]))...)
	}
	return out
}

// ScanHistory scans the commands recorded in an image config's history
// (CreatedBy), which keep every RUN line and the build arguments it saw
// ("RUN |1 TOKEN=… /bin/sh -c …"). Findings are at "history:I", I being
// the entry's index in history.
func (s *Scanner) ScanHistory(history []string) []Finding {
	var out []Finding
	for i, h := range history {
		out = append(out, s.findings(WhereHistory+strconv.Itoa(i), s.scanCommand(context.Background(), h))...)
	}
	return out
}
