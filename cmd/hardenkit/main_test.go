package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestBuildFlagsKeepCSVValuesWhole(t *testing.T) {
	o := &buildOptions{}
	f := pflag.NewFlagSet("build", pflag.ContinueOnError)
	addBuildFlags(f, o)
	err := f.Parse([]string{
		"-o", "type=oci,dest=a.tar",
		"--output", "type=image,name=r/a,push=true",
		"--secret", "id=s,src=f",
		"--build-arg", "A=1,2",
		"--platform", "linux/amd64,linux/arm64",
		"-f", "x/Dockerfile", "--target", "t", "--no-cache", "--progress", "plain",
		"-t", "r/a:1", "--metadata-file", "m.json",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"type=oci,dest=a.tar", "type=image,name=r/a,push=true"}; !slices.Equal(o.outputs, want) {
		t.Fatalf("outputs = %q, want %q", o.outputs, want)
	}
	if !slices.Equal(o.secrets, []string{"id=s,src=f"}) || !slices.Equal(o.buildArgs, []string{"A=1,2"}) || !slices.Equal(o.platforms, []string{"linux/amd64,linux/arm64"}) {
		t.Fatalf("values were split: %+v", o)
	}
	if o.file != "x/Dockerfile" || o.target != "t" || !o.noCache || o.progress != "plain" || o.metadataFile != "m.json" || !slices.Equal(o.tags, []string{"r/a:1"}) {
		t.Fatalf("options: %+v", o)
	}
}

func TestProgressMode(t *testing.T) {
	for _, m := range progressModes {
		if _, err := progressMode(m); err != nil {
			t.Errorf("%s rejected: %v", m, err)
		}
	}
	_, err := progressMode("fancy")
	if err == nil || !strings.Contains(err.Error(), "auto, plain, tty, quiet, rawjson") {
		t.Fatalf("want list of valid modes, got %v", err)
	}
}

func TestDockerfileFromStdin(t *testing.T) {
	dir, err := dockerfileFromStdin(strings.NewReader("FROM scratch\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	b, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil || string(b) != "FROM scratch\n" {
		t.Fatalf("got %q, %v", b, err)
	}
}

func TestDaemonStatusWhenNotRunning(t *testing.T) {
	dir := t.TempDir()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"daemon", "status", "--state-dir", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "running:    no") || !strings.Contains(out.String(), filepath.Join(dir, "buildkitd.sock")) {
		t.Fatalf("status output:\n%s", out.String())
	}
	root.SetArgs([]string{"daemon", "stop", "--state-dir", dir})
	if err := root.Execute(); err != nil {
		t.Fatalf("stop of a stopped daemon: %v", err)
	}
}

func TestBuildArgumentErrors(t *testing.T) {
	t.Setenv("BUILDKIT_HOST", "unix:///nonexistent.sock")
	ctxDir := t.TempDir()
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"build"}, "accepts 1 arg"},
		{[]string{"build", "-o", "type=nope", ctxDir}, "valid types: cacheonly, docker, image, local, oci, registry, tar"},
		{[]string{"build", "--progress", "x", ctxDir}, "invalid --progress"},
		{[]string{"build", "--secret", "id=a,value=hunter2", ctxDir}, `unknown key "value"`},
		{[]string{"build", "-t", "r/a", "-o", "type=local,dest=d", ctxDir}, "--tag needs"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			root := newRootCommand()
			root.SetOut(&bytes.Buffer{})
			root.SetErr(&bytes.Buffer{})
			root.SetArgs(tt.args)
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks a secret value: %v", err)
			}
		})
	}
}
