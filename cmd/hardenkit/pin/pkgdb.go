package pin

import "strings"

// parsePackageDB returns name → version of the installed packages in a
// dpkg status file (apt) or an apk installed database. Both are
// paragraphs of "Key: value" (dpkg) or "K:value" (apk) lines.
func parsePackageDB(manager, text string) map[string]string {
	out := map[string]string{}
	// removed keeps the versions of packages removed with their
	// configuration left behind: `apt-get install -y gcc && make &&
	// apt-get remove -y gcc` in one RUN installed that version.
	removed := map[string]string{}
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		var name, version, status string
		for _, line := range strings.Split(para, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.HasPrefix(line, " ") {
				continue // a continuation line of a multi-line field
			}
			v = strings.TrimSpace(v)
			switch manager {
			case "apt":
				switch k {
				case "Package":
					name = v
				case "Version":
					version = v
				case "Status":
					status = v
				}
			case "apk":
				switch k {
				case "P":
					name = v
				case "V":
					version = v
				}
			}
		}
		// dpkg keeps removed and half-configured packages in the file;
		// only "install ok installed" ones are on the filesystem.
		if manager == "apt" && !strings.HasSuffix(status, " installed") {
			if strings.HasSuffix(status, " config-files") && name != "" && version != "" {
				removed[name] = version
			}
			continue
		}
		if name != "" && version != "" {
			out[name] = version
		}
	}
	for name, v := range removed {
		if _, ok := out[name]; !ok {
			out[name] = v
		}
	}
	return out
}
