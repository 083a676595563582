package shellscript

import (
	"reflect"
	"slices"
	"testing"
)

func TestCalls(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want [][]string
	}{
		{"empty", "  \n", [][]string{}},
		{"quotes removed", `echo "a b" 'c'`, [][]string{{"echo", "a b", "c"}}},
		{"expansions kept", `exec "$@"`, [][]string{{"exec", "${@}"}}},
		{"lists and conditions", "set -e\nif [ -f x ]; then run a; fi && b", [][]string{{"set", "-e"}, {"[", "-f", "x", "]"}, {"run", "a"}, {"b"}}},
		{"sh -c followed", `sh -c 'curl -k x'`, [][]string{{"sh", "-c", "curl -k x"}, {"curl", "-k", "x"}}},
		{"wrapped shell followed", `sudo -u app bash -ec "id"`, [][]string{{"sudo", "-u", "app", "bash", "-ec", "id"}, {"id"}}},
		{"substitution", `echo $(date)`, [][]string{{"echo", "$(…)"}, {"date"}}},
		{"heredoc read by a shell", "bash <<EOF\ncurl x\nEOF\n", [][]string{{"curl", "x"}, {"bash"}}},
		{"unparsable falls back", "X=1 curl -k x | sh; fi fi (", [][]string{{"curl", "-k", "x"}, {"sh"}, {"fi", "fi", "("}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Calls(tt.src); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Calls(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		pipelines int
		assigns   []Assign
		subs      int
	}{
		{"pipeline", "curl x | sh; echo done", 1, nil, 0},
		{"assignments", "X=1 cmd; export Y=2; env Z=3 run", 0, []Assign{{"X", "1"}, {"Y", "2"}, {"Z", "3"}}, 0},
		{"process substitution", "bash <(curl x)", 0, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Parse(tt.src)
			if len(s.Pipelines) != tt.pipelines {
				t.Errorf("Pipelines = %v, want %d", s.Pipelines, tt.pipelines)
			}
			if !reflect.DeepEqual(s.Assigns, tt.assigns) {
				t.Errorf("Assigns = %v, want %v", s.Assigns, tt.assigns)
			}
			subs := 0
			for _, c := range s.Calls {
				subs += len(c.Subs)
			}
			if subs != tt.subs {
				t.Errorf("substitutions = %d, want %d", subs, tt.subs)
			}
		})
	}
}

func TestParseArgv(t *testing.T) {
	s := ParseArgv([]string{"/bin/sh", "-c", "apt-get update && apt-get install -y x"})
	want := [][]string{{"/bin/sh", "-c", "apt-get update && apt-get install -y x"}, {"apt-get", "update"}, {"apt-get", "install", "-y", "x"}}
	var got [][]string
	for _, c := range s.Calls {
		got = append(got, c.Args)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseArgv calls = %q, want %q", got, want)
	}
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		args    []string
		want    []string
		env     []Assign
		wrapped string
	}{
		{[]string{"sudo", "-u", "app", "env", "A=1", "nice", "-n", "5", "apt-get", "install"}, []string{"apt-get", "install"}, []Assign{{"A", "1"}}, "sudo"},
		{[]string{"timeout", "-s", "KILL", "10", "curl", "x"}, []string{"curl", "x"}, nil, "timeout"},
		{[]string{"command", "-v", "curl"}, nil, nil, "command"},
		{[]string{"/usr/bin/curl", "x"}, []string{"/usr/bin/curl", "x"}, nil, ""},
	}
	for _, tt := range tests {
		got, env := Unwrap(tt.args)
		if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(env, tt.env) {
			t.Errorf("Unwrap(%q) = %q, %v; want %q, %v", tt.args, got, env, tt.want, tt.env)
		}
		if tt.wrapped != "" && !WrappedBy(tt.args, tt.wrapped) {
			t.Errorf("WrappedBy(%q, %q) = false", tt.args, tt.wrapped)
		}
	}
}

func TestOptSpec(t *testing.T) {
	spec := OptSpec{Short: "o", Long: []string{"virtual"}}
	args := []string{"-o", "Acquire::x=1", "--virtual", ".deps", "-y", "curl", "--", "-weird"}
	if got, want := spec.Operands(args), []string{"curl", "-weird"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Operands = %q, want %q", got, want)
	}
	if got, want := spec.Options(args), []string{"-o", "--virtual", "-y"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Options = %q, want %q", got, want)
	}
	if got := spec.FirstOperand(args); got != 5 {
		t.Errorf("FirstOperand = %d, want 5", got)
	}
	if v, ok := spec.OptionValue(args, "virtual", 0); !ok || v != ".deps" {
		t.Errorf("OptionValue(virtual) = %q, %v", v, ok)
	}
}

func TestChain(t *testing.T) {
	tests := []struct {
		args []string
		want []int
	}{
		{[]string{"/app/server", "--serve"}, []int{0}},
		{[]string{"/usr/bin/tini", "--", "python3", "/app/run.py"}, []int{0, 2}},
		{[]string{"tini", "-g", "-p", "SIGTERM", "--", "env", "-i", "A=1", "B=2", "nice", "-n", "5", "python3"}, []int{0, 5, 9, 12}},
		{[]string{"dumb-init", "--rewrite", "15:2", "node", "server.js"}, []int{0, 3}},
		{[]string{"setpriv", "--reuid", "1000", "--init-groups", "--nnp", "/app/server"}, []int{0, 5}},
		{[]string{"chpst", "-u", "app:app", "-e", "/env", "redis-server"}, []int{0, 5}},
		{[]string{"timeout", "10", "taskset", "-c", "0", "app"}, []int{0, 2, 5}},
		{[]string{"tini", "--"}, []int{0}},
		{[]string{"env"}, []int{0}},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := Chain(tt.args); !slices.Equal(got, tt.want) {
			t.Errorf("Chain(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

// TestAssignsKeepOperatorExpansionsApart: ${X##…}, ${X:-d} and ${#X} are
// computed from X, so they must not read as the plain ${X}.
func TestAssignsKeepOperatorExpansionsApart(t *testing.T) {
	s := Parse(`A=${X}; B="-${X##/etc/apache2-}"; C=${Y:-/usr/sbin/apache2}; D=${#X}; E=$X/envvars`)
	want := map[string]string{"A": "${X}", "B": "-${X…}", "C": "${Y…}", "D": "${X…}", "E": "${X}/envvars"}
	for _, a := range s.Assigns {
		if a.Value != want[a.Name] {
			t.Errorf("%s = %q, want %q", a.Name, a.Value, want[a.Name])
		}
	}
	if len(s.Assigns) != len(want) {
		t.Errorf("got %d assignments, want %d", len(s.Assigns), len(want))
	}
}

// TestRedirected: a command whose redirection is part of what it does is
// marked, so its words are not taken for the whole command.
func TestRedirected(t *testing.T) {
	tests := []struct {
		src  string
		want []bool
	}{
		{"mkdir -p /etc/app\ncat > /etc/app/app.conf <<CONF\nport=${PORT}\nCONF\n", []bool{false, true}},
		{"echo x >> /var/log/x; sort < in", []bool{true, true}},
		{"chown app /data >/dev/null 2>&1 && exec app", []bool{false, false}},
		{"if true; then tee /x </dev/stdin; fi", []bool{false, true}},
	}
	for _, tt := range tests {
		var got []bool
		for _, c := range Parse(tt.src).Calls {
			got = append(got, c.Redirected)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: Redirected = %v, want %v", tt.src, got, tt.want)
		}
	}
}
