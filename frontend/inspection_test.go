package frontend

import (
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

func TestFollowStatic(t *testing.T) {
	static := []rules.Finding{
		{Rule: "HK1043", Level: rules.LevelWaived, Waiver: "EX-1", File: "Dockerfile", Line: 4},
		{Rule: "HK1061", Level: rules.LevelWarn, File: "Dockerfile", Line: 7, Fingerprint: "0123456789ab"},
	}
	tests := []struct {
		name       string
		image      rules.Finding
		wantLevel  rules.Level
		wantWaiver string
	}{
		{"EXPOSE 22 waived in the Dockerfile", rules.Finding{Rule: "HK3041", Level: rules.LevelEnforce}, rules.LevelWaived, "EX-1"},
		{"same secret only warned about", rules.Finding{Rule: "HK3050", Level: rules.LevelEnforce, Fingerprint: "0123456789abcdef"}, rules.LevelWarn, ""},
		{"another secret stands", rules.Finding{Rule: "HK3050", Level: rules.LevelEnforce, Fingerprint: "fedcba9876543210"}, rules.LevelEnforce, ""},
		{"no twin", rules.Finding{Rule: "HK3052", Level: rules.LevelEnforce, Fingerprint: "0123456789abcdef"}, rules.LevelEnforce, ""},
		{"already waived by its own exception", rules.Finding{Rule: "HK3041", Level: rules.LevelWaived, Waiver: "EX-2"}, rules.LevelWaived, "EX-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := followStatic([]rules.Finding{tt.image}, static)[0]
			if got.Level != tt.wantLevel || got.Waiver != tt.wantWaiver {
				t.Errorf("level %s waiver %q, want %s %q", got.Level, got.Waiver, tt.wantLevel, tt.wantWaiver)
			}
			if decided := strings.Contains(got.Message, "decided by"); decided != (got.Level != tt.image.Level) {
				t.Errorf("message %q: says decided = %v", got.Message, decided)
			}
		})
	}
}
