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
// "label:KEY". A token split across two labels is found too: the values
// of labels adjacent in key order are scanned joined, with the
// high-confidence detectors (fixed prefixes, checksummed formats) when
// neither holds a secret alone, and a secret found that way is at
// "label:KEY1+KEY2".
func (s *Scanner) ScanLabels(labels map[string]string) []Finding {
	out := s.scanMap(WhereLabel, labels)
	seen := map[string]bool{}
	reported := map[string]bool{}
	for _, f := range out {
		seen[f.Fingerprint] = true
		reported[strings.TrimPrefix(f.Where, WhereLabel)] = true
	}
	keys := slices.Sorted(maps.Keys(labels))
	for i := 0; i+1 < len(keys); i++ {
		a, b := keys[i], keys[i+1]
		if reported[a] || reported[b] {
			// A label with a secret of its own is reported as it is;
			// joined to its neighbour it would only extend the match.
			continue
		}
		joined := labels[a] + labels[b]
		hits := append(s.gitleaks.scan(context.Background(), "", joined, false, nil, false), privateKeys(joined, false)...)
		var fresh []hit
		for _, h := range hits {
			if !seen[h.fingerprint] {
				seen[h.fingerprint] = true
				fresh = append(fresh, h)
			}
		}
		out = append(out, s.findings(WhereLabel+a+"+"+b, fresh)...)
	}
	return out
}

// ScanOnBuild scans an image config's ONBUILD triggers, which run in
// every build FROM the image. Findings are at "onbuild:I", I being the
// trigger's index.
func (s *Scanner) ScanOnBuild(triggers []string) []Finding {
	return s.scanCommands(WhereOnBuild, triggers)
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
	return s.scanCommands(WhereHistory, history)
}

// scanCommands scans recorded commands; findings are at prefix and the
// command's index.
func (s *Scanner) scanCommands(prefix string, cmds []string) []Finding {
	var out []Finding
	for i, c := range cmds {
		out = append(out, s.findings(prefix+strconv.Itoa(i), s.scanCommand(context.Background(), c))...)
	}
	return out
}
