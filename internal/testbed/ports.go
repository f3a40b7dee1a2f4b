package testbed

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// drawn at random below the kernel's ephemeral range.
func FreePort() (int, error) {
	low := ephemeralLow()
	for range 200 {
		port := freePortFloor + rand.IntN(low-freePortFloor)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testbed: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePortFloor is the lowest port FreePort hands out.
const freePortFloor = 10000

// ephemeralLow is the first port of the kernel's ephemeral range, which
// every outgoing connection and every listener on port 0 draws from: a
// port FreePort chose there could be taken by one of them before the
// server it was chosen for binds it, so FreePort chooses below it.
func ephemeralLow() int {
	low := 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				low = v
			}
		}
	}
	return max(low, freePortFloor+1000)
}
