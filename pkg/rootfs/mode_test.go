package rootfs

import (
	"io/fs"
	"testing"
)

func TestModeString(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		want string
	}{
		{fs.ModeDir | fs.ModeSticky | 0o733, "drwx-wx-wt (1733)"},
		{fs.ModeDir | fs.ModeSticky | 0o777, "drwxrwxrwt (1777)"},
		{fs.ModeDir | fs.ModeSticky | 0o776, "drwxrwxrwT (1776)"},
		{0o666, "-rw-rw-rw- (0666)"},
		{fs.ModeSetuid | 0o755, "-rwsr-xr-x (4755)"},
		{fs.ModeSetuid | fs.ModeSetgid | 0o644, "-rwSr-Sr-- (6644)"},
		{fs.ModeSymlink | 0o777, "lrwxrwxrwx (0777)"},
		{fs.ModeDevice | fs.ModeCharDevice | 0o666, "crw-rw-rw- (0666)"},
		{fs.ModeDevice | 0o660, "brw-rw---- (0660)"},
		{fs.ModeNamedPipe | 0o622, "prw--w--w- (0622)"},
	}
	for _, tt := range tests {
		if got := ModeString(tt.mode); got != tt.want {
			t.Errorf("ModeString(%v) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}
