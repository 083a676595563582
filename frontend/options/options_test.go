package options

import (
	"maps"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		opts    map[string]string
		want    Options
		wantErr string
	}{
		{name: "default is enforce", opts: map[string]string{"build-arg:FOO": "1"}, want: Options{Mode: ModeEnforce}},
		{name: "off", opts: map[string]string{"build-arg:HARDENKIT_MODE": "off"}, want: Options{Mode: ModeOff}},
		{name: "case and space", opts: map[string]string{"build-arg:HARDENKIT_MODE": " OFF "}, want: Options{Mode: ModeOff}},
		{name: "explicit enforce", opts: map[string]string{"build-arg:HARDENKIT_MODE": "enforce"}, want: Options{Mode: ModeEnforce}},
		{name: "bad mode", opts: map[string]string{"build-arg:HARDENKIT_MODE": "of"}, wantErr: `HARDENKIT_MODE="of": want one of enforce, off`},
		{name: "empty mode", opts: map[string]string{"build-arg:HARDENKIT_MODE": ""}, wantErr: "want one of"},
		{name: "unknown arg", opts: map[string]string{"build-arg:HARDENKIT_MDOE": "off"}, wantErr: "unknown hardenkit build arg HARDENKIT_MDOE"},
		{name: "non build-arg key ignored", opts: map[string]string{"HARDENKIT_MODE": "bogus"}, want: Options{Mode: ModeEnforce}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if got != tt.want {
				t.Fatalf("Parse() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStripBuildArgs(t *testing.T) {
	in := map[string]string{"HARDENKIT_MODE": "off", "FOO": "bar", "BUILDKIT_SYNTAX": "x"}
	got := StripBuildArgs(in)
	want := map[string]string{"FOO": "bar", "BUILDKIT_SYNTAX": "x"}
	if !maps.Equal(got, want) {
		t.Fatalf("StripBuildArgs() = %v, want %v", got, want)
	}
	if _, ok := in["HARDENKIT_MODE"]; !ok {
		t.Fatal("StripBuildArgs modified its input")
	}
}

// TestSourceDateEpochValidation: each bad SOURCE_DATE_EPOCH fails with a
// message naming the build arg, the value and what to give instead.
func TestSourceDateEpochValidation(t *testing.T) {
	tests := []struct {
		value   string
		wantErr string // "" means valid
	}{
		{value: "0"},
		{value: "1714564800"},
		{value: "253402300799"},
		{value: "context"},
		{value: "mystage"},
		{value: " 5", wantErr: `SOURCE_DATE_EPOCH=" 5" has white space around it`},
		{value: "5\n", wantErr: "has white space around it"},
		{value: "5 6", wantErr: "contains white space"},
		{value: "253402300800", wantErr: "is after 9999-12-31T23:59:59Z"},
		{value: "-1", wantErr: "is before 1970-01-01"},
		{value: "-1714564800", wantErr: "is before 1970-01-01"},
		{value: "1.5", wantErr: "is not a whole number of seconds"},
		{value: "1e9", wantErr: "is not a whole number of seconds"},
		{value: "99999999999999999999", wantErr: "is not a whole number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			_, err := Parse(map[string]string{"build-arg:SOURCE_DATE_EPOCH": tt.value})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse(SOURCE_DATE_EPOCH=%q) = %v, want valid", tt.value, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(SOURCE_DATE_EPOCH=%q) accepted it", tt.value)
			}
			for _, want := range []string{"SOURCE_DATE_EPOCH", tt.wantErr, "give whole unix seconds between 0 and 253402300799"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}
