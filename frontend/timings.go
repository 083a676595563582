package frontend

import (
	"slices"
	"sync"
	"time"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
)

// stepTimes records how long hardenkit's steps took, for the compliance
// statement (compliance.Timing). Steps of one platform may run side by
// side, so recording is safe for concurrent use.
type stepTimes struct {
	mu   sync.Mutex
	list []compliance.Timing
}

// start begins timing step; the returned function records it.
func (t *stepTimes) start(step string) func() {
	begin := time.Now()
	return func() { t.record(step, time.Since(begin)) }
}

// record adds step's time.
func (t *stepTimes) record(step string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.list = append(t.list, compliance.Timing{Step: step, Milliseconds: d.Milliseconds()})
}

// fork returns a recorder holding what t recorded so far: the build-wide
// steps, to which one platform's steps are added.
func (t *stepTimes) fork() *stepTimes {
	t.mu.Lock()
	defer t.mu.Unlock()
	return &stepTimes{list: slices.Clone(t.list)}
}

// timings returns what was recorded, in the order steps finished.
func (t *stepTimes) timings() []compliance.Timing {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.list)
}
