package compliance

// Reproducibility, split in two claims so a statement never says more than
// was checked:
//
//	normalised         HK2001 — timestamps and ordering normalised: what
//	                   one build can check (every file, the config's
//	                   created time and history at SOURCE_DATE_EPOCH).
//	contentReproduced  whether a second build from the recorded inputs gave
//	                   the same bytes: only a rebuild (`hardenkit rebuild`)
//	                   can prove it, so a build's own statement always says
//	                   not-verified.

// RuleNormalised is the catalog id of the control whose result Normalised
// carries (llb/harden/epoch.go).
const RuleNormalised = "HK2001"

// The values of Reproducibility.ContentReproduced.
const (
	// ContentNotVerified: no rebuild has compared the bytes; what a build
	// records about itself.
	ContentNotVerified = "not-verified"
	// ContentReproduced: a rebuild from the recorded inputs gave the same
	// image manifest digest (a verification statement says so).
	ContentReproduced = "reproduced"
	// ContentDiffers: a rebuild gave other bytes.
	ContentDiffers = "differs"
)

// Reproducibility says which of the two reproducibility claims was
// checked.
type Reproducibility struct {
	// Normalised is HK2001's result: timestamps and ordering normalised.
	// It is no claim that the content a build's steps wrote is
	// deterministic.
	Normalised Result `json:"normalised"`
	// ContentReproduced is ContentNotVerified in a build's statement.
	ContentReproduced string `json:"contentReproduced"`
}

// reproducibilityOf derives the split claim from the rules' results.
func reproducibilityOf(rs []Rule) *Reproducibility {
	out := &Reproducibility{Normalised: ResultNotEvaluated, ContentReproduced: ContentNotVerified}
	for _, r := range rs {
		if r.ID == RuleNormalised {
			out.Normalised = r.Result
		}
	}
	return out
}
