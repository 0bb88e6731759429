package link

import "errors"

// Errors returned by Subscribe and reported by Subscription.Err. Callers branch
// on them with errors.Is.
var (
	// ErrSlowSubscriber: the subscriber's queue was full when an event arrived,
	// so it was cut off.
	ErrSlowSubscriber = errors.New("link: subscriber cut off: queue full")
	// ErrClosed: the subscription was closed by its owner.
	ErrClosed = errors.New("link: subscription closed")
	// ErrBusClosed: the bus was closed.
	ErrBusClosed = errors.New("link: bus closed")
	// ErrInvalidTopic: a topic or pattern is malformed (see ParsePattern).
	ErrInvalidTopic = errors.New("link: invalid topic")
	// ErrNoPatterns: Subscribe was called without patterns.
	ErrNoPatterns = errors.New("link: no topic patterns")
)

// Cut-off reasons, as counted in Stats and written in the SSE "cutoff" event.
const (
	ReasonSlowSubscriber = "slow_subscriber"
	ReasonClosed         = "closed"
	ReasonBusClosed      = "bus_closed"
)

// state of a subscription; the zero value is live.
const (
	stateLive uint32 = iota
	stateSlow
	stateClosed
	stateBusClosed
)

func stateErr(s uint32) error {
	switch s {
	case stateSlow:
		return ErrSlowSubscriber
	case stateClosed:
		return ErrClosed
	case stateBusClosed:
		return ErrBusClosed
	}
	return nil
}

// Reason names why a subscription ended, from the error Err returned:
// "slow_subscriber", "closed", "bus_closed", or "" for nil or another error.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrSlowSubscriber):
		return ReasonSlowSubscriber
	case errors.Is(err, ErrClosed):
		return ReasonClosed
	case errors.Is(err, ErrBusClosed):
		return ReasonBusClosed
	}
	return ""
}
