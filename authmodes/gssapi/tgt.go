package gssapi

import (
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// tgt is a ticket-granting ticket with its session key and times.
type tgt struct {
	ticket    messages.Ticket
	key       types.EncryptionKey
	start     time.Time // starttime, else authtime
	end       time.Time
	renewTill time.Time
	renewable bool
}

// tgtFromReply takes the TGT out of an AS or TGS reply.
func tgtFromReply(t messages.Ticket, p messages.EncKDCRepPart) tgt {
	return tgt{
		ticket: t, key: p.Key, start: orTime(p.StartTime, p.AuthTime), end: p.EndTime,
		renewTill: p.RenewTill, renewable: types.IsFlagSet(&p.Flags, flags.Renewable),
	}
}

// life is how long the ticket is valid in all.
func (t tgt) life() time.Duration { return t.end.Sub(t.start) }

// refreshAt is when the ticket is renewed or replaced: when a quarter of
// its life is left, so a failed attempt has time to be retried.
func (t tgt) refreshAt() time.Time { return t.end.Add(-t.life() / 4) }

// canRenew reports whether the KDC would renew the ticket at now.
func (t tgt) canRenew(now time.Time) bool {
	return t.renewable && now.Before(t.end) && now.Before(t.renewTill)
}

// svcTicket is a cached service ticket.
type svcTicket struct {
	ticket messages.Ticket
	key    types.EncryptionKey
	end    time.Time
	margin time.Duration // not used within this much of end
}

// fresh reports whether the ticket may still be presented at now.
func (t svcTicket) fresh(now time.Time) bool { return now.Before(t.end.Add(-t.margin)) }

// newSvcTicket takes a service ticket out of a TGS reply.
func newSvcTicket(t messages.Ticket, p messages.EncKDCRepPart) svcTicket {
	life := p.EndTime.Sub(orTime(p.StartTime, p.AuthTime))
	return svcTicket{ticket: t, key: p.Key, end: p.EndTime, margin: min(life/10, 10*time.Second)}
}

// stamp formats a ticket time for messages and events.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
