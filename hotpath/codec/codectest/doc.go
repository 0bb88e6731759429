// Package codectest is the test support of the canonical encodings built
// on hotpath/codec: golden files that pin an encoding byte for byte (so a
// change to an encoder that moves a single byte, and with it every hash
// and journal record, fails a test instead of passing silently), the check
// every decoder's fuzz target makes, and a decode benchmark.
//
// Only tests import it. It never rewrites a golden file unless the test
// binary runs with -update-golden, and it never imports the rest of the
// project.
package codectest
