package eye

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// serverMetrics counts admin requests and refused tokens.
type serverMetrics struct {
	requests *prometheus.CounterVec
	authFail *prometheus.CounterVec
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
	}
}

func (m *serverMetrics) register(r prometheus.Registerer) error {
	if err := r.Register(m.requests); err != nil {
		return err
	}
	return r.Register(m.authFail)
}

func (m *serverMetrics) request(route string, status int) {
	if status == 0 {
		status = 200
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

func (m *serverMetrics) authFailure(reason string) { m.authFail.WithLabelValues(reason).Inc() }
