//go:build !race

package dockerfilecheck

// raceSlowdown scales timing limits: 1 without the race detector.
const raceSlowdown = 1
