// Package inputfile opens files whose names come from operators or outside
// input (model weights, market-data and filing inputs, federation
// datasets) so that no name can hang or exhaust the process: only regular
// files are opened (a FIFO, a device such as /dev/zero, a socket or a
// directory is refused from its Stat, before open), the open itself is
// non-blocking (a file swapped for a FIFO between the Stat and the open
// cannot block it, and the opened file is checked again), reads are
// bounded by a size limit, and a name may be confined to a directory
// (paths that leave it through .. or symbolic links are refused, via
// os.Root).
//
// Errors name the path and the problem and never echo the file's bytes.
// It never reads a file whole without a limit and never follows a name
// outside Options.Dir when Dir is set.
package inputfile
