package stack

import (
	"fmt"
	"net"
	"strconv"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ipv6Loopback reports whether ::1 can be bound.
func ipv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// ports are the stack's TCP ports.
type ports struct{ pg, lb int }

// reservePorts picks two distinct free ports, holding each listener open
// until all are chosen; the LB port is free on ::1 too when v6 is true.
func reservePorts(v6 bool) (ports, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	pick := func(both bool) (int, error) {
		for range 20 {
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
			}
			held = append(held, l)
			port := l.Addr().(*net.TCPAddr).Port
			if !both {
				return port, nil
			}
			if l6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
				held = append(held, l6)
				return port, nil
			}
		}
		return 0, fmt.Errorf("no port free on both 127.0.0.1 and ::1")
	}
	var p ports
	var err error
	if p.pg, err = pick(false); err != nil {
		return p, err
	}
	p.lb, err = pick(v6)
	return p, err
}
