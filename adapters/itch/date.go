package itch

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"
	_ "time/tzdata" // America/New_York without relying on the system's zoneinfo
)

// newYork is the zone of ITCH timestamps (ns since midnight Eastern time).
var newYork = mustZone("America/New_York")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("itch: zone %s: %v (time/tzdata is linked in)", name, err)) // a build bug, not input
	}
	return loc
}

// Midnight returns the Unix time in ns of midnight in New York on the given
// calendar day (its year, month and day; the zone of day is ignored): add a
// message's Timestamp to get its event time.
func Midnight(day time.Time) int64 {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, newYork).UnixNano()
}

// DayOf returns the New York calendar day of a Unix time in ns (for a
// capture's first packet).
func DayOf(unixNanos int64) time.Time {
	t := time.Unix(0, unixNanos).In(newYork)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// DateFromName returns the session day a file name states, as Nasdaq and
// others name them: eight digits standing alone in the base name, read as
// MMDDYYYY ("12302019.NASDAQ_ITCH50", "12302019_SNIPPET.NASDAQ_ITCH50" →
// 2019-12-30) or, when that is not a date, YYYYMMDD
// ("Nasdaq.Equities.TotalView.Itch.v5.0.20230822__SystemEvent.pcap" →
// 2023-08-22). The first such group that is a valid date between 1990 and
// 2199 wins.
func DateFromName(path string) (time.Time, bool) {
	base := filepath.Base(path)
	for i := 0; i+8 <= len(base); i++ {
		if (i > 0 && isDigit(base[i-1])) || (i+8 < len(base) && isDigit(base[i+8])) || !allDigits(base[i:i+8]) {
			continue
		}
		g := base[i : i+8]
		if d, ok := date(g[4:8], g[0:2], g[2:4]); ok {
			return d, true
		}
		if d, ok := date(g[0:4], g[4:6], g[6:8]); ok {
			return d, true
		}
	}
	return time.Time{}, false
}

func date(y, m, d string) (time.Time, bool) {
	yy, _ := strconv.Atoi(y)
	mm, _ := strconv.Atoi(m)
	dd, _ := strconv.Atoi(d)
	if yy < 1990 || yy > 2199 || mm < 1 || mm > 12 || dd < 1 || dd > 31 {
		return time.Time{}, false
	}
	t := time.Date(yy, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	if t.Day() != dd { // 31 February
		return time.Time{}, false
	}
	return t, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
