package journal

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The background writer (Options.Compressors > 0). The appending goroutine
// only copies records into a block; a full block (or one Submit seals) goes
// to the compressors, which encode blocks in parallel, and in the same
// order to the writer goroutine, which waits for each block's encoding and
// writes blocks strictly in offset order. So the appender never waits for
// compression, an fsync or the disk — only, past InFlight blocks, for a
// free block (Stats.BlockWaits): the buffering is bounded.
//
// Acknowledgement is unchanged: a record is acknowledged once its block is
// written (and fsynced under "always"). A write that fails in a way that
// can be retried (a full disk) is retried by the writer every
// RetryInterval, in order, with nothing after it written first: WriteErr
// reports it meanwhile, and Abort gives up.
//
// Blocks are preallocated (InFlight of them, with their compression
// buffers), so Append allocates nothing in steady state. The compressors
// are plain goroutines, not an ants pool: they live as long as the journal
// and each keeps no state of its own; a pool would add a closure per block.
type asyncWriter struct {
	free  chan *blockJob // blocks ready for the appender
	work  chan *blockJob // to the compressors
	order chan *blockJob // to the writer, in offset order
	cur   *blockJob      // the appender's open block

	err   atomic.Pointer[error] // sticky failure
	werr  atomic.Pointer[error] // a retryable write failure being retried
	abort atomic.Bool
	acked chan struct{} // a token each time the writer acknowledges blocks
	done  chan struct{} // the writer has exited
	comp  sync.WaitGroup
	waits atomic.Uint64 // Append waited for a free block
}

// blockJob is one block on its way through the background writer.
type blockJob struct {
	blk, out []byte // the block (header room + records), the compressed copy
	first    Offset
	count    uint32
	buf      []byte // what to write: blk or out, header filled
	h        blockHeader
	syncOnly bool          // a Sync request, no block
	ready    chan struct{} // the compressor is done with it
	synced   chan struct{} // the writer has done the Sync request
}

func (j *Journal) startAsync() {
	o := j.opts
	as := &asyncWriter{free: make(chan *blockJob, o.InFlight), work: make(chan *blockJob, o.InFlight),
		order: make(chan *blockJob, o.InFlight), acked: make(chan struct{}, 1), done: make(chan struct{})}
	for range o.InFlight {
		b := &blockJob{blk: make([]byte, blockHeaderSize, blockHeaderSize+o.BlockBytes),
			ready: make(chan struct{}, 1), synced: make(chan struct{}, 1)}
		if j.codec != 0 {
			b.out = make([]byte, 0, outCap(o.BlockBytes))
		}
		as.free <- b
	}
	as.comp.Add(o.Compressors)
	for range o.Compressors {
		go func() {
			defer as.comp.Done()
			for b := range as.work {
				b.buf, b.h, b.out = j.encodeBlock(b.blk, b.out, b.first, b.count)
				b.ready <- struct{}{}
			}
		}()
	}
	j.blk, j.out = nil, nil
	j.as = as
	j.bgw.Store(as)
	go as.run(j)
}

func (as *asyncWriter) sticky() error {
	if p := as.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (as *asyncWriter) fail(err error) {
	as.err.CompareAndSwap(nil, &err)
}

// take gives the appender a free block, waiting for one if every block is
// in flight.
func (as *asyncWriter) take(j *Journal) error {
	var b *blockJob
	select {
	case b = <-as.free:
	default:
		as.waits.Add(1)
		b = <-as.free
	}
	if err := as.sticky(); err != nil {
		as.free <- b
		return err
	}
	as.cur = b
	j.blk = b.blk[:blockHeaderSize]
	return nil
}

// submit hands the appender's open block to the compressors and the writer.
func (as *asyncWriter) submit(j *Journal) error {
	b := as.cur
	b.blk, b.first, b.count, b.syncOnly = j.blk, j.blkFirst, j.blkCount, false
	as.cur, j.blk, j.blkCount = nil, nil, 0
	as.work <- b // never blocks: at most InFlight blocks exist
	as.order <- b
	return as.sticky()
}

// flush submits the open block and waits until the writer has acknowledged
// every record appended (or failed, or gave up).
func (as *asyncWriter) flush(j *Journal) error {
	if err := as.sticky(); err != nil {
		return err
	}
	if err := j.seal(); err != nil {
		return err
	}
	return as.waitAcked(j, uint64(j.nextOff))
}

func (as *asyncWriter) waitAcked(j *Journal, upTo uint64) error {
	for j.acked.Load() < upTo {
		if err := as.sticky(); err != nil {
			return err
		}
		<-as.acked
	}
	return as.sticky()
}

// syncNow writes everything appended and fsyncs, on the writer.
func (as *asyncWriter) syncNow(j *Journal) error {
	if err := as.flush(j); err != nil {
		return err
	}
	b := <-as.free
	b.syncOnly = true
	b.ready <- struct{}{}
	as.order <- b
	<-b.synced
	return as.sticky()
}

// stop lets the writer finish every submitted block and waits for it.
func (as *asyncWriter) stop() {
	close(as.work)
	close(as.order)
	as.comp.Wait()
	<-as.done
}

func (as *asyncWriter) signal() {
	select {
	case as.acked <- struct{}{}:
	default:
	}
}

// run is the writer goroutine: blocks in order, interval fsyncs when idle.
func (as *asyncWriter) run(j *Journal) {
	defer close(as.done)
	defer as.signal()
	var tick <-chan time.Time
	if j.opts.Fsync == FsyncInterval {
		t := time.NewTicker(j.opts.FsyncInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case b, ok := <-as.order:
			if !ok {
				return
			}
			<-b.ready
			if b.syncOnly {
				if as.sticky() == nil && j.dirty && j.f != nil {
					if err := j.sync(); err != nil {
						as.fail(err)
					}
				}
				b.syncOnly = false
				b.synced <- struct{}{}
			} else {
				as.write(j, b)
			}
			b.blk, b.out = j.shrink(b.blk[:blockHeaderSize], b.out)
			as.free <- b
			as.signal()
		case <-tick:
			if as.sticky() == nil && j.dirty && j.f != nil && time.Since(j.lastSync) >= j.opts.FsyncInterval {
				if err := j.sync(); err != nil {
					as.fail(err)
				}
			}
		}
	}
}

// write writes one block, retrying while the failure can be retried.
// After a sticky failure blocks are dropped (they are not acknowledged).
func (as *asyncWriter) write(j *Journal, b *blockJob) {
	for as.sticky() == nil {
		err := j.writeBlock(b.buf, &b.h)
		if err == nil {
			if as.werr.Load() != nil {
				as.werr.Store(nil)
			}
			return
		}
		if !errors.Is(err, ErrRetry) {
			as.fail(err)
			return
		}
		failed := err // only a failure escapes to the heap
		as.werr.Store(&failed)
		for end := time.Now().Add(j.opts.RetryInterval); time.Now().Before(end); {
			if as.abort.Load() {
				as.fail(fmt.Errorf("%w: %v", ErrAborted, err))
				return
			}
			time.Sleep(min(10*time.Millisecond, time.Until(end)))
		}
	}
}

// Submit seals the open block and hands it to the background writer
// without waiting for it to be written (Acked moves when it is). Without a
// background writer (Options.Compressors 0) it is Flush.
func (j *Journal) Submit() error {
	if j.as == nil {
		return j.Flush()
	}
	if err := j.as.sticky(); err != nil {
		return err
	}
	return j.seal()
}

// WriteErr returns the failure the background writer is retrying (a full
// disk), or nil while it writes. Safe from any goroutine.
func (j *Journal) WriteErr() error {
	if as := j.bgw.Load(); as != nil {
		if p := as.werr.Load(); p != nil {
			return *p
		}
	}
	return nil
}

// Abort makes the background writer give up a write it is retrying: the
// journal fails, and what was not written is not acknowledged. Safe from
// any goroutine; without a background writer it does nothing.
func (j *Journal) Abort() {
	if as := j.bgw.Load(); as != nil {
		as.abort.Store(true)
	}
}
