package rules

import (
	"strings"
	"testing"
)

const fixDockerfile = `FROM debian:bookworm
RUN apt-get update
COPY server.py /app/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["python3", \
    "/app/server.py"]
`

func TestFixRoundTripAndApply(t *testing.T) {
	tests := []struct {
		name string
		fix  Fix
		want string // the rendered fix
		out  string // the Dockerfile after Apply
	}{{
		name: "replace, delete a continued instruction, insert after it",
		fix: Fix{Edits: []Edit{
			{Op: EditReplace, Line: 4, End: 4, Text: `ENTRYPOINT ["python3", "/app/server.py"]`},
			{Op: EditDelete, Line: 5, End: 6},
			{Op: EditInsert, Line: 6, Text: "RUN mkdir -p /tmp/app-data"},
			{Op: EditInsert, Line: 6, Text: "USER app"},
		}},
		want: "\n  fix: line 4: replace with: ENTRYPOINT [\"python3\", \"/app/server.py\"]\n  fix: lines 5-6: delete" +
			"\n  fix: after line 6: insert: RUN mkdir -p /tmp/app-data\n  fix: after line 6: insert: USER app",
		out: "FROM debian:bookworm\nRUN apt-get update\nCOPY server.py /app/\nENTRYPOINT [\"python3\", \"/app/server.py\"]\nRUN mkdir -p /tmp/app-data\nUSER app\n",
	}, {
		name: "insert at the top and replace a continued instruction",
		fix:  Fix{Edits: []Edit{{Op: EditInsert, Line: 0, Text: "# syntax=x"}, {Op: EditReplace, Line: 5, End: 6, Text: `CMD ["a"]`}}},
		want: "\n  fix: after line 0: insert: # syntax=x\n  fix: lines 5-6: replace with: CMD [\"a\"]",
		out:  "# syntax=x\nFROM debian:bookworm\nRUN apt-get update\nCOPY server.py /app/\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"a\"]\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fix.String(); got != tt.want {
				t.Fatalf("rendered\n%s\nwant\n%s", got, tt.want)
			}
			parsed, ok, err := ParseFix("hardenkit: HK2011: prose" + tt.fix.String() + "\n  to fix: more prose")
			if err != nil || !ok {
				t.Fatalf("ParseFix: ok=%v err=%v", ok, err)
			}
			if parsed.String() != tt.want {
				t.Fatalf("parsed back as\n%s", parsed.String())
			}
			out, err := parsed.Apply([]byte(fixDockerfile))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.out {
				t.Errorf("applied:\n%s\nwant\n%s", out, tt.out)
			}
		})
	}
}

func TestFixErrors(t *testing.T) {
	if _, ok, _ := ParseFix("no advice here\n  to fix: prose"); ok {
		t.Error("a message without fix lines parsed as a fix")
	}
	if _, _, err := ParseFix("x\n  fix: line 4: rewrite it"); err == nil {
		t.Error("a malformed fix line parsed")
	}
	if _, _, err := ParseFix("x\n  fix: after line 4: replace with: X"); err == nil {
		t.Error("an insert-position replace parsed")
	}
	f, _, _ := ParseFix("x\n  fix: line 2: delete\n  fix: not mechanically applicable: the port")
	if f.Applicable() || !strings.Contains(f.Manual, "the port") {
		t.Errorf("a fix with a manual step: %+v", f)
	}
	for _, bad := range []Fix{
		{Edits: []Edit{{Op: EditDelete, Line: 9, End: 9}}},
		{Edits: []Edit{{Op: EditDelete, Line: 5, End: 6}, {Op: EditReplace, Line: 6, End: 6, Text: "X"}}},
	} {
		if _, err := bad.Apply([]byte(fixDockerfile)); err == nil {
			t.Errorf("%v applied", bad)
		}
	}
}
