package policysource

import (
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/policy"
)

// TestKeysFromTrustedPlace: an organisation or CI policy may not name its
// approver keys by path — the path is read beside the Dockerfile, where the
// build's author could put their own key.
func TestKeysFromTrustedPlace(t *testing.T) {
	const inline = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAFPi/o5EUyOMHnvWXnE/7scCHIoNn4+L38bPcgBuuc/k=\n-----END PUBLIC KEY-----\n"
	tests := []struct {
		rank    string
		keys    []string
		wantErr string
	}{
		{policy.RankCI, []string{"keys/security.pub"}, "approver key keys/security.pub is a path"},
		{policy.RankOrganisation, []string{inline, "keys/security.pub"}, "(organisation): approver key keys/security.pub is a path"},
		{policy.RankCI, []string{inline}, ""},
		{policy.RankDockerfile, []string{"keys/security.pub"}, ""},
		{policy.RankBuildArg, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rank, func(t *testing.T) {
			p := &policy.Policy{Name: "p", Sources: []policy.SourceRef{{Rank: tt.rank, Name: "p.yaml"}}}
			p.Controls.Exceptions.ApproverKeys = tt.keys
			err := keysFromTrustedPlace(p)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("keysFromTrustedPlace() = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("keysFromTrustedPlace() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestNarrowPaths: the secret rules' waivers must name files, the others'
// may cover directories.
func TestNarrowPaths(t *testing.T) {
	narrow := NarrowPaths(catalog.All())
	for id, want := range map[string]bool{"HK3052": true, "HK1061": true, "HK1043": false, "HK2030": false} {
		if _, ok := catalog.Lookup(id); !ok {
			t.Fatalf("%s is not in the catalog", id)
		}
		if narrow(id) != want {
			t.Errorf("NarrowPaths(%s) = %v, want %v", id, !want, want)
		}
	}
}
