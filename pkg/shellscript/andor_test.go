package shellscript

import (
	"reflect"
	"testing"
)

func TestAndOrList(t *testing.T) {
	tests := []struct {
		src  string
		want []ListItem
		ok   bool
	}{
		{"curl -f http://localhost:8080/ || exit 1", []ListItem{{"", []string{"curl", "-f", "http://localhost:8080/"}}, {"||", []string{"exit", "1"}}}, true},
		{`wget -qO- "http://127.0.0.1/h" >/dev/null 2>&1`, []ListItem{{"", []string{"wget", "-qO-", "http://127.0.0.1/h"}}}, true},
		{"a && b || c", []ListItem{{"", []string{"a"}}, {"&&", []string{"b"}}, {"||", []string{"c"}}}, true},
		{"curl -f http://localhost:$PORT/", nil, false},
		{"curl -f http://x/ | grep ok", nil, false},
		{"curl -f http://x/; exit 1", nil, false},
		{"! curl -f http://x/", nil, false},
		{"curl -f http://x/ > /tmp/out", nil, false},
		{"X=1 curl -f http://x/", nil, false},
		{"test -f /x && curl http://x/", []ListItem{{"", []string{"test", "-f", "/x"}}, {"&&", []string{"curl", "http://x/"}}}, true},
		{`curl -f "http://x/h?full=1"`, []ListItem{{"", []string{"curl", "-f", "http://x/h?full=1"}}}, true},
		{"curl -f http://x/h?full=1", nil, false},
		{"if true; then curl http://x/; fi", nil, false},
		{"curl -f http://x/ &", nil, false},
		{"curl $(cat url)", nil, false},
		{"curl 'http://x/*'", []ListItem{{"", []string{"curl", "http://x/*"}}}, true},
		{"curl -f 'http://x", nil, false},
	}
	for _, tt := range tests {
		got, ok := AndOrList(tt.src)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("AndOrList(%q) = %v, %v; want %v, %v", tt.src, got, ok, tt.want, tt.ok)
		}
	}
}
