package pin

import (
	"fmt"

	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
)

// nameStages gives every unnamed stage of dt a name (" AS hkpin-stage-N"
// appended to its FROM), so that any stage can be the target of a build,
// and returns the names by stage index. Only the copy sent to the daemon
// for reading versions carries these names; the user's file never does.
func nameStages(dt []byte, stages []dockerfilecheck.StageSite) ([]byte, []string, error) {
	src := newSource(dt)
	names := make([]string, len(stages))
	var edits []edit
	for i, st := range stages {
		if st.Name != "" {
			names[i] = st.Name
			continue
		}
		names[i] = fmt.Sprintf("hkpin-stage-%d", i)
		_, to, err := src.span(st.EndLine, st.EndLine)
		if err != nil {
			return nil, nil, err
		}
		for to > 0 && isBlank(dt[to-1]) {
			to--
		}
		edits = append(edits, edit{at: to, text: " AS " + names[i]})
	}
	out, err := src.apply(edits)
	return out, names, err
}
