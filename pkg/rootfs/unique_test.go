package rootfs

import (
	"slices"
	"testing"
)

func TestUnique(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"/usr/lib", "/lib", "/usr/lib", "/lib64", "/lib"}, []string{"/usr/lib", "/lib", "/lib64"}},
		{[]string{"/b", "/a"}, []string{"/b", "/a"}},
	}
	for _, tt := range tests {
		if got := Unique(tt.in); !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("Unique(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
