package smoke

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// tcpListen is the state of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// listening are the TCP ports with a listening socket in the network
// namespace whose proc filesystem is proc, sorted, each once. A file that
// cannot be read (no IPv6) lists nothing.
func listening(proc string) []int {
	ports := []int{}
	for _, name := range []string{"net/tcp", "net/tcp6"} {
		dt, err := os.ReadFile(path.Join(proc, name))
		if err != nil {
			continue
		}
		for _, p := range parseListening(dt) {
			if !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
	}
	slices.Sort(ports)
	return ports
}

// parseListening reads the listening ports of a /proc/net/tcp{,6} table:
// "sl local_address rem_address st …", the local address as HEX_IP:HEX_PORT.
func parseListening(dt []byte) []int {
	var ports []int
	sc := bufio.NewScanner(bytes.NewReader(dt))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != tcpListen {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
			ports = append(ports, int(p))
		}
	}
	return ports
}
