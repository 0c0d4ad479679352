package metrics

import "github.com/prometheus/client_golang/prometheus"

// Auth counts refused sign-ins. It satisfies httpapi.AuthMetrics. Set does
// not build it; cmd wires it with NewAuth(set.Registry).
type Auth struct {
	failures *prometheus.CounterVec
}

// loginFailureReasons are the reasons of hotline_login_failures_total, the
// same as httpapi's LoginFailure* values; anything else counts as "other".
var loginFailureReasons = []string{"wrong_password", "unknown_user", "disabled", "throttled"}

// NewAuth registers the sign-in metrics on reg, every reason at zero.
func NewAuth(reg prometheus.Registerer) *Auth {
	a := &Auth{failures: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hotline_login_failures_total",
		Help: "Refused sign-ins by reason: wrong_password, unknown_user, disabled, " +
			"throttled (429: the source, or the name from that source, is locked out).",
	}, []string{"reason"})}
	reg.MustRegister(a.failures)
	for _, r := range loginFailureReasons {
		a.failures.WithLabelValues(r)
	}
	a.failures.WithLabelValues("other")
	return a
}

// LoginFailed counts one refused sign-in.
func (a *Auth) LoginFailed(reason string) {
	known := false
	for _, r := range loginFailureReasons {
		known = known || r == reason
	}
	if !known {
		reason = "other"
	}
	a.failures.WithLabelValues(reason).Inc()
}
