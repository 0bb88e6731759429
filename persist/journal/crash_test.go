package journal

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// crashDirEnv switches the test binary into the writer child of TestCrash.
const crashDirEnv = "THUNDERLINE_JOURNAL_CRASH_DIR"

const (
	crashFlushEvery = 500
	crashMaxRecords = 2_000_000 // the child stops by itself if nobody kills it
)

func crashOptions(dir string, round int) Options {
	o := Options{
		Dir:          dir,
		SegmentBytes: 256 << 10,
		BlockBytes:   4 << 10,
		Compression:  allCompressions[round%len(allCompressions)],
		Fsync:        FsyncNever,
	}
	// Several blocks are written between two acks, so the kill lands among
	// writes; big raw blocks give it a chance to cut one.
	if o.Compression == CompressionNone {
		o.BlockBytes = 128 << 10
	}
	return o
}

// TestCrashChild is the writer process of TestCrash; it does nothing in a
// normal run. It appends recordFor records forever, flushing every
// crashFlushEvery records and printing Acked() after each Flush returns.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as TestCrash's child")
	}
	round, _ := strconv.Atoi(os.Getenv(crashDirEnv + "_ROUND"))
	j, err := Open(crashOptions(dir, round))
	if err != nil {
		os.Stderr.WriteString("child: Open: " + err.Error() + "\n")
		os.Exit(2)
	}
	var buf, line []byte
	for i := 1; i <= crashMaxRecords; i++ {
		kind, p := recordFor(j.Next(), buf)
		buf = p
		if _, err := j.Append(kind, p); err != nil {
			os.Stderr.WriteString("child: Append: " + err.Error() + "\n")
			os.Exit(2)
		}
		if i%crashFlushEvery == 0 {
			if err := j.Flush(); err != nil {
				os.Stderr.WriteString("child: Flush: " + err.Error() + "\n")
				os.Exit(2)
			}
			line = strconv.AppendUint(line[:0], uint64(j.Acked()), 10)
			line = append(line, '\n')
			if _, err := os.Stdout.Write(line); err != nil {
				os.Exit(2)
			}
		}
	}
	os.Exit(3)
}

// TestCrash runs a writer in a child process, kills it with SIGKILL while
// it writes, and checks that every record the child saw acknowledged is
// there and intact, that nothing corrupt is read, and that a cut tail is
// reported. Five rounds on the same journal, killed at different moments,
// cycling through the compressions.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	var prevNext Offset
	rounds := []struct {
		acks int           // acks to see before the kill
		then time.Duration // then let the child run on this long, taking acks
	}{{1, 0}, {4, 300 * time.Microsecond}, {9, time.Millisecond}, {25, 3 * time.Millisecond}, {60, 7 * time.Millisecond}}
	for round, rd := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashDirEnv+"_ROUND="+strconv.Itoa(round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acks := make(chan Offset, 1024)
		go func() {
			defer close(acks)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				v, err := strconv.ParseUint(sc.Text(), 10, 64)
				if err != nil {
					continue // not an ack line: the test framework's output
				}
				acks <- Offset(v)
			}
		}()

		// Wait for the acks on the child's output, with a deadline.
		var acked Offset
		deadline := time.NewTimer(2 * time.Minute)
		for n := 0; n < rd.acks; {
			select {
			case v, ok := <-acks:
				if !ok {
					cmd.Wait()
					t.Fatalf("round %d: child exited after %d acks: %s", round, n, stderr.String())
				}
				if v < acked {
					t.Fatalf("round %d: acks went backwards: %d after %d", round, v, acked)
				}
				acked = v
				n++
			case <-deadline.C:
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("round %d: no ack in time; child stderr: %s", round, stderr.String())
			}
		}
		deadline.Stop()
		// The kill moment is chosen, not awaited: the child keeps writing
		// blocks meanwhile, so the kill lands among writes.
		for run := time.After(rd.then); rd.then > 0; {
			select {
			case v := <-acks:
				acked = max(acked, v)
				continue
			case <-run:
			}
			break
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// Acks already in the pipe were printed after Flush returned: they
		// count too.
		for v := range acks {
			acked = max(acked, v)
		}
		if err := cmd.Wait(); err == nil {
			t.Fatalf("round %d: child exited cleanly", round)
		}
		if acked <= prevNext {
			t.Fatalf("round %d: acked %d, not past the previous end %d", round, acked, prevNext)
		}

		segs := segmentFiles(t, dir)
		last := segs[len(segs)-1]
		sizeBefore := fileSize(t, filepath.Join(dir, last))
		j, err := Open(crashOptions(dir, round))
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		rec := j.Recovery()
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		sizeAfter := fileSize(t, filepath.Join(dir, last))
		if rec.Next < acked {
			t.Fatalf("round %d: recovered up to %d, but %d were acknowledged", round, rec.Next, acked)
		}
		switch {
		case rec.Torn && rec.TornAt == 0:
			// Killed while creating a segment: its header was rewritten.
			if rec.TornSegment != last || rec.TruncatedBytes != sizeBefore || sizeAfter != fileHeaderSize {
				t.Fatalf("round %d: segment of %d bytes now %d, Recovery = %+v", round, sizeBefore, sizeAfter, rec)
			}
		case sizeBefore != sizeAfter || rec.Torn:
			if cut := sizeBefore - sizeAfter; !rec.Torn || rec.TornSegment != last || rec.TruncatedBytes != cut || cut <= 0 {
				t.Fatalf("round %d: file cut by %d bytes, Recovery = %+v", round, cut, rec)
			}
		}
		if got := checkRead(t, dir, 0); got != rec.Next {
			t.Fatalf("round %d: read %d records, Recovery says %d", round, got, rec.Next)
		}
		t.Logf("round %d: killed after ack %d; recovered %d records in %d segments, torn=%v (%d bytes: %s)",
			round, acked, rec.Next, rec.Segments, rec.Torn, rec.TruncatedBytes, rec.TornReason)
		prevNext = rec.Next
	}
}
