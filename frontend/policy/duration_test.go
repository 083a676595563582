package policy

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "90d", want: 90 * Day},
		{in: "36h", want: 36 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1d2h3m4s", want: Day + 2*time.Hour + 3*time.Minute + 4*time.Second},
		{in: "0s", want: 0},
		{in: "120h", want: 5 * Day},
		{in: "", wantErr: true},
		{in: "90", wantErr: true},
		{in: "d", wantErr: true},
		{in: "1.5d", wantErr: true},
		{in: "-1d", wantErr: true},
		{in: "1w", wantErr: true},
		{in: "1h1d", wantErr: true},
		{in: "1d1d", wantErr: true},
		{in: "1ms", wantErr: true},
		{in: "99999999999d", wantErr: true},
		{in: "106751d23h47m16s", want: 106751*Day + 23*time.Hour + 47*time.Minute + 16*time.Second},
		{in: "106751d23h47m17s", wantErr: true},
		{in: "1s1", wantErr: true},
		{in: "106751d24h", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{90 * Day, "90d"},
		{2160 * time.Hour, "90d"},
		{36 * time.Hour, "1d12h"},
		{90 * time.Second, "1m30s"},
		{time.Second + 500*time.Millisecond, "1s500ms"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d).String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.d, got, tt.want)
		}
		b, err := json.Marshal(Duration(tt.d))
		if err != nil || string(b) != `"`+tt.want+`"` {
			t.Errorf("json.Marshal(Duration(%v)) = %s, %v", tt.d, b, err)
		}
	}
}

// FuzzDuration checks that every parsed duration prints back to a string
// that parses to the same value.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"90d", "1d12h", "0s", "5m", "bogus"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(Duration(d).String())
		if err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, printed %q, re-parsed %v, %v", s, d, Duration(d).String(), back, err)
		}
	})
}
