package dockerfilecheck

import "sort"

// envMap is the variable scope used to expand Dockerfile words: built-in
// platform ARGs, global ARGs, a stage's ARGs and ENVs. It implements
// shell.EnvGetter. Values are copied on write by clone so a stage never sees
// a later stage's variables.
type envMap map[string]string

// Get implements shell.EnvGetter.
func (e envMap) Get(key string) (string, bool) {
	v, ok := e[key]
	return v, ok
}

// Keys implements shell.EnvGetter; sorted so expansion errors and
// suggestions are deterministic.
func (e envMap) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// clone copies the scope.
func (e envMap) clone() envMap {
	c := make(envMap, len(e))
	for k, v := range e {
		c[k] = v
	}
	return c
}
