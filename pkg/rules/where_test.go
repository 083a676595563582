package rules

import "testing"

func TestFindingWhere(t *testing.T) {
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{File: "Dockerfile", Line: 12}, "Dockerfile:12"},
		{Finding{File: "Dockerfile"}, "Dockerfile"},
		{Finding{File: "/usr/bin/sudo"}, "/usr/bin/sudo"},
		{Finding{}, "image config"},
	}
	for _, tt := range tests {
		if got := tt.f.Where(); got != tt.want {
			t.Errorf("%+v.Where() = %q, want %q", tt.f, got, tt.want)
		}
	}
}
