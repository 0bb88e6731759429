package postgres

import "time"

// ackTimes remembers when the journal's acknowledged offset moved, as the
// shipper observed it through ShipperOptions.Acked: facts "at time t the
// journal had acknowledged the records below limit", one a millisecond at
// most, the last ackRing of them (over a minute when the offset moves
// every millisecond). A record at offset o with a fact (limit ≤ o, t) was
// acknowledged after t: the newest such t is a lower bound of the
// record's append time, so a commit lag measured from it errs long, never
// short: by at most a Poll plus a millisecond at the journal's end, and,
// in the middle of a backlog (where the clock is read only when the offset
// moves), by the time the offset stood still before it moved.
type ackTimes struct {
	limit  uint64 // the newest observed
	lastAt int64  // the last time limit was observed, unix ns
	pushed int64  // when the newest fact was stored, unix ns
	ring   [ackRing]ackFact
	n      uint64 // facts stored so far
}

type ackFact struct {
	limit uint64
	at    int64 // unix ns
}

const ackRing = 1 << 16

// observe records that the journal's acknowledged offset is limit now.
func (a *ackTimes) observe(limit uint64, now time.Time) {
	t := now.UnixNano()
	if limit != a.limit && a.lastAt != 0 && t-a.pushed >= int64(time.Millisecond) {
		a.ring[a.n%ackRing] = ackFact{a.limit, a.lastAt}
		a.n++
		a.pushed = t
	}
	a.limit, a.lastAt = limit, t
}

// before returns the newest time the record at off was known not to be
// acknowledged yet (zero when no fact says: Acked unset, or the record is
// older than every fact kept).
func (a *ackTimes) before(off uint64) time.Time {
	lo, hi := a.n-min(a.n, ackRing), a.n // facts [lo, hi), limits and times ascending
	if lo == hi || a.ring[lo%ackRing].limit > off {
		return time.Time{}
	}
	for hi-lo > 1 { // invariant: ring[lo].limit <= off; every fact from hi on has a limit > off
		mid := lo + (hi-lo)/2
		if a.ring[mid%ackRing].limit <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Unix(0, a.ring[lo%ackRing].at)
}
