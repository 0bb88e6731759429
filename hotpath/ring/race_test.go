//go:build race

package ring

// raceEnabled scales stress tests down: the race detector makes every atomic
// operation and slot copy many times slower.
const raceEnabled = true
