package link

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"
)

// Defaults and limits of Options.
const (
	DefaultQueueLen  = 1024
	DefaultRecentLen = 100
	DefaultMaxTopics = 1024

	maxQueueLen  = 1 << 20
	maxRecentLen = 1 << 16
	maxMaxTopics = 1 << 16
)

// Options configure a Bus. The zero value is valid and means every default.
type Options struct {
	// QueueLen is each subscriber's queue, in events. A subscriber whose queue
	// is full when an event arrives is cut off (ErrSlowSubscriber).
	// 0 means DefaultQueueLen (1024); at most 1<<20.
	QueueLen int
	// RecentLen is how many events each topic keeps for Recent and for the
	// SSE replay. 0 means DefaultRecentLen (100); at most 1<<16.
	RecentLen int
	// MaxTopics bounds the distinct topics the bus tracks (per-topic counters
	// and Recent rings). Events on further topics are still delivered to
	// matching subscribers, but are counted only in Stats.Untracked and kept
	// in no ring. 0 means DefaultMaxTopics (1024); at most 1<<16.
	MaxTopics int
	// Clock stamps Event.At. nil means time.Now.
	Clock func() time.Time
	// Logger receives cut-off warnings (one per cut-off, never per event).
	// nil means no logging.
	Logger *slog.Logger
}

// Validate reports the first field that is out of range.
func (o Options) Validate() error {
	if o.QueueLen < 0 || o.QueueLen > maxQueueLen {
		return fmt.Errorf("link: Options.QueueLen %d: must be 0 (default %d) or 1..%d", o.QueueLen, DefaultQueueLen, maxQueueLen)
	}
	if o.RecentLen < 0 || o.RecentLen > maxRecentLen {
		return fmt.Errorf("link: Options.RecentLen %d: must be 0 (default %d) or 1..%d", o.RecentLen, DefaultRecentLen, maxRecentLen)
	}
	if o.MaxTopics < 0 || o.MaxTopics > maxMaxTopics {
		return fmt.Errorf("link: Options.MaxTopics %d: must be 0 (default %d) or 1..%d", o.MaxTopics, DefaultMaxTopics, maxMaxTopics)
	}
	return nil
}

func (o Options) withDefaults() Options {
	o.QueueLen = cmp.Or(o.QueueLen, DefaultQueueLen)
	o.RecentLen = cmp.Or(o.RecentLen, DefaultRecentLen)
	o.MaxTopics = cmp.Or(o.MaxTopics, DefaultMaxTopics)
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}
