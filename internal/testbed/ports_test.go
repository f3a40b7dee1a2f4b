package testbed

import (
	"fmt"
	"net"
	"testing"
)

// TestFreePortBelowEphemeralRange: the ports handed out are bindable and
// outside the range outgoing connections and port-0 listeners draw from.
func TestFreePortBelowEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	seen := map[int]bool{}
	for range 20 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p < freePortFloor || p >= low {
			t.Errorf("port %d outside [%d, %d)", p, freePortFloor, low)
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Errorf("port %d not bindable: %v", p, err)
			continue
		}
		l.Close()
		seen[p] = true
	}
	if len(seen) < 10 {
		t.Errorf("%d distinct ports in 20 draws: want them spread", len(seen))
	}
}
