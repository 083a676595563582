package inspect

import "testing"

func TestExposesTCP(t *testing.T) {
	tests := []struct {
		spec string
		port int
		want bool
	}{
		{"22", 22, true},
		{"22/tcp", 22, true},
		{"22/TCP", 22, true},
		{"22/udp", 22, false},
		{"20-25/tcp", 22, true},
		{"23-25", 22, false},
		{"2222", 22, false},
		{"ssh", 22, false},
		{"", 22, false},
	}
	for _, tt := range tests {
		if got := exposesTCP(tt.spec, tt.port); got != tt.want {
			t.Errorf("exposesTCP(%q, %d) = %v, want %v", tt.spec, tt.port, got, tt.want)
		}
	}
}
