package testbed

import (
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// SMTP is a minimal SMTP relay on a real socket, for tests of mail
// notifications: it records the messages it is given. With FailFirst, it
// answers its first session with a temporary failure (451).
type SMTP struct {
	ln        net.Listener
	failFirst bool
	mu        sync.Mutex
	sessions  int
	got       []string
}

// StartSMTP starts a relay on a free port, closed when the test ends.
func StartSMTP(tb testing.TB, failFirst bool) *SMTP {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &SMTP{ln: ln, failFirst: failFirst}
	tb.Cleanup(func() { ln.Close() })
	go s.accept()
	return s
}

// Addr is the relay's host:port.
func (s *SMTP) Addr() string { return s.ln.Addr().String() }

// Messages returns the messages received so far, headers and body.
func (s *SMTP) Messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func (s *SMTP) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.serve(c)
	}
}

func (s *SMTP) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	s.mu.Lock()
	s.sessions++
	refuse := s.failFirst && s.sessions == 1
	s.mu.Unlock()
	if refuse {
		_ = tp.PrintfLine("451 try again later")
		return
	}
	_ = tp.PrintfLine("220 testbed ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil || !s.answer(tp, line) {
			return
		}
	}
}

// answer answers one command; false ends the session.
func (s *SMTP) answer(tp *textproto.Conn, line string) bool {
	switch strings.ToUpper(strings.Fields(line + " x")[0]) {
	case "EHLO", "HELO":
		_ = tp.PrintfLine("250 testbed")
	case "MAIL", "RCPT", "RSET", "NOOP":
		_ = tp.PrintfLine("250 ok")
	case "DATA":
		_ = tp.PrintfLine("354 go on")
		body, err := tp.ReadDotBytes()
		if err != nil {
			return false
		}
		s.mu.Lock()
		s.got = append(s.got, string(body))
		s.mu.Unlock()
		_ = tp.PrintfLine("250 queued")
	case "QUIT":
		_ = tp.PrintfLine("221 bye")
		return false
	default:
		_ = tp.PrintfLine("502 not implemented")
	}
	return true
}
