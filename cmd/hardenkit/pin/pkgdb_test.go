package pin

import (
	"context"
	"maps"
	"strings"
	"testing"
)

func TestParsePackageDB(t *testing.T) {
	tests := []struct {
		name, manager, text string
		want                map[string]string
	}{
		{
			name:    "dpkg status: installed, and removed with config files left; multi-line fields skipped",
			manager: "apt",
			text: "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u12\nDescription: tool\n Version: 9 in a description\n\n" +
				"Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n" +
				"Package: half\nStatus: install reinstreq half-unpacked\nVersion: 2.0\n\n" +
				"Package: libc6\nStatus: hold ok installed\nVersion: 2.36-9+deb12u10\n",
			want: map[string]string{"curl": "7.88.1-10+deb12u12", "libc6": "2.36-9+deb12u10", "gone": "1.0"},
		},
		{
			name:    "apk installed",
			manager: "apk",
			text:    "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\n\nP:curl\nV:8.9.1-r0\n",
			want:    map[string]string{"musl": "1.2.5-r0", "curl": "8.9.1-r0"},
		},
		{name: "empty", manager: "apt", text: "", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parsePackageDB(tt.manager, tt.text); !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadPackageDB(t *testing.T) {
	ctx := context.Background()
	got, err := readPackageDB(ctx, mapFS{"/lib/apk/db/installed": "P:curl\nV:8.9.1-r0\n"}, "apk")
	if err != nil || got["curl"] != "8.9.1-r0" {
		t.Errorf("apk: %v, %v", got, err)
	}
	// A stage without the database cannot say what it installed: an error,
	// not an empty answer.
	if _, err := readPackageDB(ctx, mapFS{}, "apt"); err == nil || !strings.Contains(err.Error(), "no apt database /var/lib/dpkg/status") {
		t.Errorf("missing dpkg status: %v", err)
	}
}
