//go:build !race

package tickarchive

const raceEnabled = false
