package doctor

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/fix"
)

// network checks the way to the load balancer: DNS, TCP and the server's
// certificate. It returns what the TLS handshake taught about the server.
func (d *Doctor) network(ctx context.Context, cfg *pgxpool.Config) Env {
	cc := cfg.ConnConfig
	var env Env
	if strings.HasPrefix(cc.Host, "/") {
		d.add(Skip("dns", "%v is a unix socket directory", fix.Flag("host")), Skip("tcp", "%v is a unix socket directory", fix.Flag("host")),
			Skip("tls", "no TLS over a unix socket"))
		return env
	}
	var seq Sequence
	d.step(&seq, "dns", func() Check { return d.checkDNS(ctx, cc.Host) })
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	d.step(&seq, "tcp", func() Check {
		var c Check
		conn, c = d.checkTCP(ctx, cc.Host, cc.Port)
		return c
	})
	if cc.TLSConfig == nil {
		d.add(Skip("tls", "TLS is off (sslmode disable)"))
		return env
	}
	d.step(&seq, "tls", func() Check {
		v := tlsVerify{host: cc.Host, roots: cc.TLSConfig.RootCAs, checkName: !cc.TLSConfig.InsecureSkipVerify, caName: d.CA}
		c, cas := d.checkTLS(ctx, conn, v)
		env.ClientCAs = cas
		return c
	})
	return env
}

// step runs one step of seq and reports it at once.
func (d *Doctor) step(seq *Sequence, name string, f func() Check) {
	seq.Run(name, f)
	d.add(seq.Checks[len(seq.Checks)-1])
}

// checkDNS resolves the load balancer's host name.
func (d *Doctor) checkDNS(ctx context.Context, host string) Check {
	if net.ParseIP(host) != nil {
		return Pass("dns", "%s is an IP address (no lookup)", host)
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return Fail("dns", fix.Textf("cannot resolve %v %s: %s", fix.Flag("host"), host, RootCause(err)),
			fix.Textf("check %v (the load balancer's name) and this machine's DNS or /etc/hosts", fix.Flag("host")))
	}
	return Pass("dns", "%s resolves to %s", host, strings.Join(addrs, ", "))
}

// checkTCP connects to the load balancer; the caller closes the returned
// connection.
func (d *Doctor) checkTCP(ctx context.Context, host string, port uint16) (net.Conn, Check) {
	addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
	dialer := net.Dialer{Timeout: d.Timeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, Fail("tcp", fix.Textf("cannot connect to the load balancer at %s: %s", addr, RootCause(err)),
			fix.Textf("is the load balancer up? check %v and %v, or run `%v`", fix.Flag("host"), fix.Flag("port"), fix.Command("stack up")))
	}
	return conn, Pass("tcp", "connected to %s (%s), the load balancer", addr, conn.RemoteAddr())
}

// RootCause returns the innermost error's text on one line, e.g.
// "connection refused".
func RootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return oneLine(err.Error())
		}
		err = next
	}
}

// oneLine folds a message onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
