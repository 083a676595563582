package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend"
)

func TestRun(t *testing.T) {
	badRequest := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(badRequest, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		serveErr   error
		wantCode   int
		wantServed bool
		wantStdout string
		wantStderr string
	}{
		{name: "no arguments serve the frontend", wantServed: true},
		{name: "a failing frontend exits 1", serveErr: errors.New("no gateway"), wantCode: 1, wantServed: true, wantStderr: "hardenkit-frontend: no gateway"},
		{name: "version", args: []string{"--version"}, wantStdout: "hardenkit-frontend " + frontend.Version + "\n"},
		{name: "unknown flag", args: []string{"--nope"}, wantCode: 2, wantStderr: "flag provided but not defined"},
		{name: "unknown subcommand", args: []string{"nope"}, wantCode: 2, wantStderr: `unknown subcommand "nope" (the steps are scan, sbom, harden, smoke)`},
		{name: "a step without arguments", args: []string{"scan"}, wantCode: 1, wantStderr: "hardenkit-frontend scan: usage: scan --request FILE --root DIR [--context DIR] --out DIR"},
		{name: "a step with a bad request", args: []string{"harden", "--request", badRequest, "--final", t.TempDir(), "--out", t.TempDir()},
			wantCode: 1, wantStderr: "hardenkit-frontend harden: reading the request: decoding " + badRequest},
		{name: "sbom with a bad epoch", args: []string{"sbom", "--root", t.TempDir(), "--epoch", "-1", "--out", t.TempDir()},
			wantCode: 1, wantStderr: `hardenkit-frontend sbom: --epoch "-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			served := false
			serve := func(context.Context) error { served = true; return tt.serveErr }
			code := run(t.Context(), tt.args, &stdout, &stderr, serve)
			if code != tt.wantCode || served != tt.wantServed {
				t.Errorf("run(%q) = %d, served %v; want %d, served %v (stderr %q)", tt.args, code, served, tt.wantCode, tt.wantServed, stderr.String())
			}
			if stdout.String() != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
