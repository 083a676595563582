package compliance

// The smoke test's results (Smoke.Result).
const (
	// SmokePass: the hardened image did no worse than the plain one.
	SmokePass = "pass"
	// SmokeFail: it did worse and HK2060 is enforced (the build failed;
	// recorded for completeness).
	SmokeFail = "fail"
	// SmokeWarn: it did worse and HK2060 warns.
	SmokeWarn = "warn"
	// SmokeWaived: it did worse and an exception waived HK2060.
	SmokeWaived = "waived"
	// SmokeOff: the policy sets HK2060 off; nothing was started.
	SmokeOff = "off"
	// SmokeNotRun: the test could not run here; Reason says why.
	SmokeNotRun = "not-run"
)

// Smoke is the in-build smoke test (HK2060): the hardened image's program
// and the plain final stage's, started the same way and compared.
type Smoke struct {
	// Result is one of the Smoke* results.
	Result string `json:"result"`
	// Reason says how the hardened run did worse, or why the test did
	// not run.
	Reason string `json:"reason,omitempty"`
	// WindowMillis is the shortest observation of a run without a health
	// check; how long the runs took is in Timings ("smoke-test").
	WindowMillis int64 `json:"windowMillis"`
	// Plain and Hardened are what each run saw; nil when not run.
	Plain    *SmokeRun `json:"plain,omitempty"`
	Hardened *SmokeRun `json:"hardened,omitempty"`
}

// SmokeRun is what one run of the smoke test saw.
type SmokeRun struct {
	// Started says the program was executed.
	Started bool `json:"started"`
	// Running says it still ran when the observation ended.
	Running bool `json:"running"`
	// ExitCode is its exit status when it ended (128+n for signal n).
	ExitCode int `json:"exitCode"`
	// Signal names the signal that ended it.
	Signal string `json:"signal,omitempty"`
	// Health is healthy or unhealthy when the image has a health check.
	Health string `json:"health,omitempty"`
	// Ports are the TCP ports it listened on, sorted.
	Ports []int `json:"ports"`
}
