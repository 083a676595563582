// Command setcap sets a file capability (security.capability), as
// setcap(8) does, for images without libcap's tools.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: setcap CAPNUM FILE")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 0 || n > 63 {
		fmt.Fprintln(os.Stderr, "bad capability number")
		os.Exit(2)
	}
	v := make([]byte, 20)
	binary.LittleEndian.PutUint32(v[0:], 0x02000001)
	binary.LittleEndian.PutUint32(v[4+8*(n/32):], 1<<(n%32))
	if err := unix.Setxattr(os.Args[2], "security.capability", v, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
