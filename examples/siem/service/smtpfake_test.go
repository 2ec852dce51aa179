package service_test

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// The modes of a fakeSMTP server.
const (
	smtpRecord = iota // accept every mail and hand its DATA to mails
	smtpRefuse        // greet with 554 and close: no mail can be sent
	smtpHang          // accept the connection and never say a word
)

// fakeSMTP is an SMTP server on 127.0.0.1 whose behaviour the test switches at run time (see
// setMode): it records, refuses or hangs. Connections are served concurrently; every one ends at
// cleanup, hanging ones included.
type fakeSMTP struct {
	addr    string
	mode    atomic.Int32
	mails   chan string   // DATA of each recorded mail
	refused chan struct{} // a token for each refused connection, when there is room
	hung    chan struct{} // a token for each connection left hanging, when there is room

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newFakeSMTP(t *testing.T, mode int) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeSMTP{addr: ln.Addr().String(), mails: make(chan string, 1024),
		refused: make(chan struct{}, 1024), hung: make(chan struct{}, 16), conns: map[net.Conn]struct{}{}}
	f.mode.Store(int32(mode))
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns[c] = struct{}{}
			f.mu.Unlock()
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.serve(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeSMTP) setMode(mode int) { f.mode.Store(int32(mode)) }

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	switch f.mode.Load() {
	case smtpRefuse:
		c.Write([]byte("554 no service here\r\n"))
		select {
		case f.refused <- struct{}{}:
		default:
		}
		return
	case smtpHang:
		select {
		case f.hung <- struct{}{}:
		default:
		}
		c.Read(make([]byte, 1)) // until the client or the cleanup closes it
		return
	}
	r := bufio.NewReader(c)
	say := func(s string) { c.Write([]byte(s + "\r\n")) }
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 fake")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			f.mails <- b.String()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default: // MAIL, RCPT, RSET, NOOP
			say("250 ok")
		}
	}
}
