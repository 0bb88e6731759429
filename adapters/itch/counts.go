package itch

import "errors"

// Counts are what a reader and a Source have seen. Every message is counted
// once, by type; every message or packet refused is counted once, by
// reason, and skipped.
type Counts struct {
	Messages uint64      // well-formed messages, all types
	ByType   [256]uint64 // well-formed messages by type byte
	// Refused messages and packets, by reason. The framing or packet
	// boundaries were intact, so the reader went on after each.
	UnknownType uint64 // a type byte ITCH 5.0 does not define
	BadLength   uint64 // a known type with a length other than its fixed one
	BadPacket   uint64 // a captured frame that is not UDP/MoldUDP64, or whose MoldUDP64 blocks overrun it
	// Packets and MoldUDP64 control datagrams (captures only).
	Packets    uint64 // captured frames read
	Heartbeats uint64 // MoldUDP64 packets with no messages
	EndSession uint64 // MoldUDP64 end-of-session packets (count 0xFFFF)
	// Semantics (Source only).
	UnknownOrder  uint64 // E/C/X/D/U of an order reference the Source does not hold (joined mid-session)
	Orphaned      uint64 // E/C/X/D/U of an order a U put in place of an unknown one (side unknown, off the book)
	DuplicateRef  uint64 // A/F/U adding a reference already live (the old order is replaced)
	NoDirectory   uint64 // messages of a stock locate no R message named (named by fallback)
	Halts         uint64 // H/h messages that halted or paused a symbol
	Resumes       uint64 // H/h messages that resumed trading of a halted symbol
	SessionEvents uint64 // S messages
	Ticks         uint64 // ticks produced
}

// Refused returns the messages and packets refused.
func (c *Counts) Refused() uint64 { return c.UnknownType + c.BadLength + c.BadPacket }

// refuse counts err, an *Error, by its sentinel.
func (c *Counts) refuse(err error) {
	switch {
	case errors.Is(err, ErrUnknownType):
		c.UnknownType++
	case errors.Is(err, ErrBadLength):
		c.BadLength++
	default:
		c.BadPacket++
	}
}

// Add adds o to c.
func (c *Counts) Add(o *Counts) {
	c.Messages += o.Messages
	for i, n := range o.ByType {
		c.ByType[i] += n
	}
	c.UnknownType += o.UnknownType
	c.BadLength += o.BadLength
	c.BadPacket += o.BadPacket
	c.Packets += o.Packets
	c.Heartbeats += o.Heartbeats
	c.EndSession += o.EndSession
	c.UnknownOrder += o.UnknownOrder
	c.Orphaned += o.Orphaned
	c.DuplicateRef += o.DuplicateRef
	c.NoDirectory += o.NoDirectory
	c.Halts += o.Halts
	c.Resumes += o.Resumes
	c.SessionEvents += o.SessionEvents
	c.Ticks += o.Ticks
}

// Map returns the non-zero counts by name: message types by their type
// letter ("A", "R", ...) and the others by snake_case name, for summaries.
func (c *Counts) Map() map[string]uint64 {
	m := map[string]uint64{}
	for _, t := range Types {
		if n := c.ByType[t]; n > 0 {
			m[string(t)] = n
		}
	}
	for _, kv := range []struct {
		k string
		v uint64
	}{
		{"unknown_type", c.UnknownType}, {"bad_length", c.BadLength}, {"bad_packet", c.BadPacket},
		{"packets", c.Packets}, {"heartbeats", c.Heartbeats}, {"end_of_session", c.EndSession},
		{"unknown_order_ref", c.UnknownOrder}, {"orphaned_order_ref", c.Orphaned}, {"duplicate_order_ref", c.DuplicateRef},
		{"no_directory", c.NoDirectory}, {"halts", c.Halts}, {"resumes", c.Resumes},
	} {
		if kv.v > 0 {
			m[kv.k] = kv.v
		}
	}
	return m
}
