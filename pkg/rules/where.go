package rules

import "fmt"

// Where is where a finding points, as users read it: "Dockerfile:12" for a
// line, the file or image path alone when there is no line (a build
// argument no ARG declares, a file of the image), and "image config" for a
// finding about the config (a VOLUME, an exposed port, the user). It never
// prints line 0 or an empty location.
func (f Finding) Where() string {
	switch {
	case f.File == "":
		return "image config"
	case f.Line > 0:
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	default:
		return f.File
	}
}
