package dockerfilemodel

import (
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// TargetIndex is the index of the stage a build of target exports, as
// dockerfile2llb resolves it: the last stage when target is empty, else
// the LAST stage of that name (BuildKit keeps stages by name in a map, so
// a repeated name means its last stage). It is -1 when no stage has that
// name.
func TargetIndex(stages []instructions.Stage, target string) int {
	if target == "" {
		return len(stages) - 1
	}
	idx := -1
	for i, s := range stages {
		if strings.EqualFold(s.Name, target) {
			idx = i
		}
	}
	return idx
}

// StageIndex is the index of the stage that name (a FROM, COPY --from or
// RUN --mount=from value, expanded) refers to from the stage at index
// before: the last earlier stage of that name, or -1 when name is no
// earlier stage.
func StageIndex(stages []instructions.Stage, name string, before int) int {
	for i := before - 1; i >= 0; i-- {
		if strings.EqualFold(stages[i].Name, name) {
			return i
		}
	}
	return -1
}

// stageRef is StageIndex that also takes a stage number (COPY --from=1).
func stageRef(stages []instructions.Stage, name string, before int) int {
	if i := StageIndex(stages, name, before); i >= 0 {
		return i
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < before {
		return n
	}
	return -1
}

// Label names a stage for findings: its name, or its index as BuildKit
// numbers unnamed stages.
func Label(s instructions.Stage, index int) string {
	if s.Name != "" {
		return s.Name
	}
	return strconv.Itoa(index)
}
