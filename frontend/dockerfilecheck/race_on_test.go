//go:build race

package dockerfilecheck

// raceSlowdown scales timing limits: the race detector slows code ~10x.
const raceSlowdown = 10
