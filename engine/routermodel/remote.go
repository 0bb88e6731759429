package routermodel

import (
	"time"

	"thunderline/adapters/remoteexpert"
	"thunderline/engine/config"
	"thunderline/hotpath/expert"
)

// newRemoteExpert is an out-of-process expert over a local socket: a call
// that misses its deadline abstains (remoteexpert has the protocol).
func newRemoteExpert(spec config.ExpertSpec, in, out int) (expert.Expert, error) {
	if !spec.Embedding && out == 0 {
		in = 0 // an action head reading the features only
	}
	return remoteexpert.New(remoteexpert.Config{Name: spec.Name, Addr: spec.Socket, InDim: in, OutDim: out,
		Deadline: time.Duration(spec.Deadline)})
}
