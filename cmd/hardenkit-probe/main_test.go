package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("ok"))
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	// A port nothing listens on: listen, note the address, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	tests := []struct {
		name    string
		args    []string
		want    int
		wantErr string
	}{
		{"http 200", []string{"http", srv.URL + "/ok"}, exitHealthy, ""},
		{"http redirect answers", []string{"http", srv.URL + "/moved"}, exitHealthy, ""},
		{"http 503", []string{"http", srv.URL + "/down"}, exitUnhealthy, "503"},
		{"http refused", []string{"http", "http://" + closed + "/"}, exitUnhealthy, "connection refused"},
		{"http timeout flag", []string{"-timeout", "2s", "http", srv.URL + "/ok"}, exitHealthy, ""},
		{"tcp open", []string{"tcp", strings.TrimPrefix(srv.URL, "http://")}, exitHealthy, ""},
		{"tcp closed", []string{"tcp", closed}, exitUnhealthy, "refused"},
		{"exec true", []string{"exec", "true"}, exitHealthy, ""},
		{"exec false", []string{"exec", "false"}, exitUnhealthy, "exit status 1"},
		{"exec missing", []string{"exec", "/nonexistent/prog"}, exitUnhealthy, "/nonexistent/prog"},
		{"no mode", nil, exitUsage, "usage"},
		{"unknown mode", []string{"ping", "x"}, exitUsage, "usage"},
		{"http without scheme", []string{"http", "127.0.0.1:80"}, exitUsage, "usage"},
		{"tcp without port", []string{"tcp", "localhost"}, exitUsage, "usage"},
		{"bad flag", []string{"-nope", "http", "x"}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(context.Background(), tt.args, &stderr); got != tt.want {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", tt.args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr.String())
			}
			if tt.want == exitHealthy && stderr.Len() != 0 {
				t.Errorf("a healthy check printed to stderr:\n%s", stderr.String())
			}
		})
	}
}
