package rootfs

import "testing"

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"Dockerfile", "Dockerfile", true},
		{"Dockerfile", "app/Dockerfile", false},
		{"*/Dockerfile", "app/Dockerfile", true},
		{"*/Dockerfile", "a/b/Dockerfile", false},
		{"**/Dockerfile", "Dockerfile", true},
		{"**/Dockerfile", "a/b/Dockerfile", true},
		{"vendor/**", "vendor/x/y.go", true},
		{"vendor/**", "vendor", true},
		{"vendor/**", "vendorx/y", false},
		{"a/**/b/**/c", "a/b/c", true},
		{"a/**/b/**/c", "a/x/y/b/z/c", true},
		{"a/**/b/**/c", "a/x/y/z/c", false},
		{"/usr/bin/*", "/usr/bin/curl", true},
		{"usr/bin/*", "/usr/bin/curl", true},
		{"/usr/bin/*", "usr/bin/curl", true},
		{"/usr/bin/*", "/usr/bin/x/curl", false},
		{"*.key", "id.key", true},
		{"*.key", "dir/id.key", false},
		{"**/*.key", "dir/id.key", true},
		{"file?.txt", "file1.txt", true},
		{"file[0-9].txt", "filea.txt", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"./app/*", "app/x", true},
		{"registry.example/team/*", "registry.example/team/app", true},
		{"registry.example/**", "registry.example/team/app", true},
		{"[", "[", false}, // invalid pattern matches nothing
		{"a/../b", "b", false},
		{"Dockerfile", "dockerfile", false}, // case matters
		{"**", "", true},
		{"*", "", false}, // the root has no segment for "*"
		{"*", "/", false},
		{"/**", "/", true},
		{"{a,b}", "a", false}, // braces are literal, as in path.Match
		{"{a,b}", "{a,b}", true},
		{"x{*,*}", "xa", false},
		{`\{a\}`, "{a}", true},
		{"[!a]", "!", true}, // "[!" is a class holding "!", as in path.Match
		{"[!a]", "b", false},
		{"[^a]", "b", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestValidatePattern(t *testing.T) {
	tests := []struct {
		pattern string
		ok      bool
	}{
		{"a/b", true},
		{"**", true},
		{"a/**/b", true},
		{"/abs/*", true},
		{"", false},
		{"  ", false},
		{"[", false},
		{"a/[b", false},
		{"a/../b", false},
		{"..", false},
		{"a**", false},
		{"**b/c", false},
		{"{a,b}", true},
		{"a}", true},
		{`a\`, false},
	}
	for _, tt := range tests {
		if err := ValidatePattern(tt.pattern); (err == nil) != tt.ok {
			t.Errorf("ValidatePattern(%q) = %v, want ok=%v", tt.pattern, err, tt.ok)
		}
	}
}

func TestWildcardOnly(t *testing.T) {
	tests := []struct {
		pattern string
		want    bool
	}{
		{"*", true},
		{"**", true},
		{"/**", true},
		{"**/*", true},
		{"*/?", true},
		{"./*", true},
		{"[a-z]*", true},
		{"*.go", false},
		{"vendor/**", false},
		{"**/Dockerfile", false},
		{`\*`, false},
		{"[abc", false},
	}
	for _, tt := range tests {
		if got := WildcardOnly(tt.pattern); got != tt.want {
			t.Errorf("WildcardOnly(%q) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

// FuzzMatch checks that matching never panics and that a valid pattern
// without wildcards matches exactly its own cleaned text.
func FuzzMatchPattern(f *testing.F) {
	f.Add("a/**/b", "a/x/b")
	f.Add("*.go", "main.go")
	f.Add("[", "x")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		Match(pattern, name)
		WildcardOnly(pattern)
		if ValidatePattern(pattern) == nil && !containsMeta(pattern) && !Match(pattern, pattern) {
			t.Errorf("Match(%q, itself) = false", pattern)
		}
	})
}

func containsMeta(s string) bool {
	for _, c := range s {
		switch c {
		case '*', '?', '[', '\\':
			return true
		}
	}
	return false
}
