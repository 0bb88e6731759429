//go:build race

package tickarchive

// raceEnabled: see TestReadCorrupt and TestWriterAllocs.
const raceEnabled = true
