package archive

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/hardenkit/hardenkit/pkg/archive/archivetest"
)

var elfProgram = append([]byte("\x7fELF\x02\x01\x01"), bytes.Repeat([]byte("code"), 300)...)

func tarOf(t *testing.T, files map[string][]byte) []byte { return archivetest.Tar(t, files) }

func zipOf(t *testing.T, files map[string][]byte) []byte { return archivetest.Zip(t, files) }

func gz(t *testing.T, data []byte) []byte { return archivetest.Gzip(t, data) }

func xzOf(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstdOf(t *testing.T, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeAll(data, nil)
}

// walkAll returns the members Walk visits, as "name!name", and its error.
func walkAll(t *testing.T, w *Walker, data []byte) (bool, []string, error) {
	t.Helper()
	if w.Want == nil {
		w.Want = func(head []byte) bool { return bytes.HasPrefix(head, []byte("\x7fELF")) }
	}
	var got []string
	opened, err := w.Walk(t.Context(), bytes.NewReader(data), int64(len(data)), func(m Member) error {
		if !bytes.Equal(m.Data, elfProgram) {
			t.Errorf("member %v: %d bytes, not the program", m.Names, len(m.Data))
		}
		got = append(got, strings.Join(m.Names, "!"))
		return nil
	})
	return opened, got, err
}

// TestWalk: a program inside every container form, nested, and appended to
// a program or a script, is visited under its names; what is no container
// is not opened; the budget and the depth limit end a walk with ErrBudget.
func TestWalk(t *testing.T) {
	inner := tarOf(t, map[string][]byte{"bin/helper": elfProgram, "README": []byte("docs")})
	tests := []struct {
		name    string
		data    []byte
		walker  Walker
		opened  bool
		want    string
		wantErr error
	}{
		{name: "tar.gz", data: gz(t, inner), opened: true, want: "bin/helper"},
		{name: "tar.xz", data: xzOf(t, inner), opened: true, want: "bin/helper"},
		{name: "tar.zst", data: zstdOf(t, inner), opened: true, want: "bin/helper"},
		{name: "plain tar", data: inner, opened: true, want: "bin/helper"},
		{name: "gzip of a program", data: gz(t, elfProgram), opened: true, want: ""},
		{name: "tar.gz in a tar", data: tarOf(t, map[string][]byte{"vendor/x.tgz": gz(t, inner)}), opened: true, want: "vendor/x.tgz!bin/helper"},
		{name: "jar in a jar", data: zipOf(t, map[string][]byte{"BOOT-INF/lib/a.jar": zipOf(t, map[string][]byte{"native/helper": elfProgram})}),
			opened: true, want: "BOOT-INF/lib/a.jar!native/helper"},
		{name: "wheel with a program", data: zipOf(t, map[string][]byte{"pkg/_speedups.so": elfProgram, "pkg/__init__.py": []byte("x")}),
			opened: true, want: "pkg/_speedups.so"},
		{name: "tar.gz appended to a program", data: append(append(append([]byte(nil), elfHeaderOnly()...), bytes.Repeat([]byte{0}, 100)...), gz(t, inner)...),
			opened: true, want: "bin/helper"},
		{name: "self-extracting script", data: append([]byte("#!/bin/sh\ntail -n +3 $0 | tar xz\nexit\n"), gz(t, inner)...), opened: true, want: "bin/helper"},
		{name: "zipapp", data: append([]byte("#!/usr/bin/env python3\n"), zipOf(t, map[string][]byte{"__main__.py": []byte("x"), "h": elfProgram})...),
			opened: true, want: "h"},
		{name: "jar of classes", data: zipOf(t, map[string][]byte{"a/B.class": []byte("\xca\xfe\xba\xbe...."), "META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\n")}), opened: true},
		{name: "text", data: []byte(strings.Repeat("just text, ustar and PK mentioned\n", 40))},
		{name: "budget", data: gz(t, tarOf(t, map[string][]byte{"big": bytes.Repeat([]byte("x"), 1<<20), "bin/helper": elfProgram})),
			walker: Walker{MaxBytes: 64 << 10}, opened: true, wantErr: ErrBudget},
		{name: "depth", data: gz(t, tarOf(t, map[string][]byte{"a.tgz": gz(t, tarOf(t, map[string][]byte{"b.tgz": gz(t, inner)}))})),
			walker: Walker{MaxDepth: 3}, opened: true, wantErr: ErrBudget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opened, got, err := walkAll(t, &tc.walker, tc.data)
			if opened != tc.opened {
				t.Errorf("opened = %v, want %v", opened, tc.opened)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			want := []string{}
			if tc.want != "" || tc.name == "gzip of a program" {
				want = []string{tc.want}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") || len(got) != len(want) {
				t.Errorf("members %q, want %q", got, want)
			}
		})
	}
}

// elfHeaderOnly is a 64-byte ELF header whose section header table is
// empty and ends at byte 64: what follows is appended.
func elfHeaderOnly() []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16] = 2  // ET_EXEC
	h[18] = 62 // EM_X86_64
	h[20] = 1  // EV_CURRENT
	h[52] = 64 // e_ehsize
	h[54] = 56 // e_phentsize
	h[58] = 64 // e_shentsize
	return h
}
