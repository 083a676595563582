package compliance

import (
	"slices"
	"testing"
)

// TestDistrolessNormalizedKeepsHandedOver: what the non-root user was
// given reaches the statement, sorted.
func TestDistrolessNormalizedKeepsHandedOver(t *testing.T) {
	d := (&Distroless{
		OwnedByUser: []string{"/run", "/data"},
		HandedOver:  []HandedOver{{Path: "/run", Why: "runtime"}, {Path: "/data", Why: "WORKDIR of the image"}},
	}).normalized()
	if !slices.Equal(d.OwnedByUser, []string{"/data", "/run"}) {
		t.Errorf("ownedByUser = %v", d.OwnedByUser)
	}
	if want := []HandedOver{{"/data", "WORKDIR of the image"}, {"/run", "runtime"}}; !slices.Equal(d.HandedOver, want) {
		t.Errorf("handedOver = %v, want %v", d.HandedOver, want)
	}
}
