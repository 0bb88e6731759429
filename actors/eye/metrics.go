package eye

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// serverMetrics counts admin requests and refused tokens.
type serverMetrics struct {
	requests *prometheus.CounterVec
	authFail *prometheus.CounterVec
	conns    prometheus.Gauge
	refused  *prometheus.CounterVec
	streams  prometheus.Gauge
}

func newServerMetrics() *serverMetrics {
	return &serverMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thunderline_admin_requests_total",
			Help: "Admin HTTP requests, by route and status code.",
		}, []string{"route", "code"}),
		authFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thunderline_admin_auth_failures_total",
			Help: "Admin HTTP requests refused for a missing or invalid bearer token, by reason.",
		}, []string{"reason"}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "thunderline_admin_connections",
			Help: "Open admin HTTP connections.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thunderline_admin_connections_refused_total",
			Help: "Admin connections closed for the caps: evicted_idle (an idle keep-alive made room), busy (refused: every connection busy), streams (a /stream over max_streams), host (a Host header not this server's).",
		}, []string{"reason"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "thunderline_admin_streams",
			Help: "Open /stream (Server-Sent Events) requests.",
		}),
	}
}

func (m *serverMetrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.requests, m.authFail, m.conns, m.refused, m.streams} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *serverMetrics) connRefused(reason string) { m.refused.WithLabelValues(reason).Inc() }

func (m *serverMetrics) request(route string, status int) {
	if status == 0 {
		status = 200
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

func (m *serverMetrics) authFailure(reason string) { m.authFail.WithLabelValues(reason).Inc() }
