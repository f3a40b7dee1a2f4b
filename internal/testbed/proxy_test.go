package testbed

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers every line it reads with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends one line through c and reads it back.
func roundTrip(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	_, err := bufio.NewReader(c).ReadString('\n')
	return err
}

// dialThrough dials the proxy and makes one round trip.
func dialThrough(p *Proxy) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	if err := roundTrip(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func TestProxyCutAndHeal(t *testing.T) {
	p := StartProxy(t, echoServer(t))
	open, err := dialThrough(p)
	if err != nil {
		t.Fatalf("through a healthy proxy: %v", err)
	}
	defer open.Close()

	p.Cut()
	if !p.IsCut() {
		t.Fatal("IsCut = false after Cut")
	}
	if err := roundTrip(open); err == nil {
		t.Error("a connection open before the cut still works")
	}
	if c, err := dialThrough(p); err == nil {
		c.Close()
		t.Error("a new connection works while the link is cut")
	}

	p.Heal()
	c, err := dialThrough(p)
	if err != nil {
		t.Fatalf("after Heal: %v", err)
	}
	c.Close()
}

func TestProxyCloseEndsConnections(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := dialThrough(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p.Close() // waits for every goroutine of the proxy
	if err := roundTrip(c); err == nil {
		t.Error("a connection still works after Close")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("the closed proxy still accepts connections")
	}
}

// TestProxyStallAndHeal: a stalled link passes nothing but refuses
// nothing; after Heal, what was sent meanwhile arrives.
func TestProxyStallAndHeal(t *testing.T) {
	p := StartProxy(t, echoServer(t))
	open, err := dialThrough(p)
	if err != nil {
		t.Fatalf("through a healthy proxy: %v", err)
	}
	defer open.Close()

	p.Stall()
	if _, err := open.Write([]byte("held\n")); err != nil {
		t.Fatalf("write on a stalled link: %v", err)
	}
	_ = open.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := open.Read(make([]byte, 16)); err == nil {
		t.Fatalf("read %d bytes through a stalled link, want none", n)
	}
	fresh, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial a stalled link: %v, want it accepted", err)
	}
	defer fresh.Close()

	p.Heal()
	_ = open.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(open).ReadString('\n'); err != nil || line != "held\n" {
		t.Errorf("after Heal: read %q, %v; want the held line", line, err)
	}
	if err := roundTrip(fresh); err != nil {
		t.Errorf("a connection accepted while stalled, after Heal: %v", err)
	}
}
