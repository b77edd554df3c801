package prometheus

import (
	"net/http"
	"strconv"
	"sync"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// Config configures [New]. The zero Config names the first 32 upstream
// hosts seen.
type Config struct {
	// Upstreams lists the upstream hosts, as the Transport sees them
	// (host:port, such as "api.internal:8080"), that label values may
	// name; any other host is labelled "other".
	// If nil, the first MaxUpstreams hosts seen are named.
	Upstreams []string

	// MaxUpstreams bounds the number of hosts named when Upstreams is nil;
	// hosts seen after that are labelled "other". Zero means 32.
	MaxUpstreams int
}

// otherUpstream labels the hosts that Config does not let a label name.
const otherUpstream = "other"

// The outcomes of gatehouse_upstream_attempts_total.
const (
	outcomeSuccess = iota
	outcomeFailure
	outcomeClientClosed
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"success", "failure", "client_closed"}

// Metrics holds Gatehouse's Prometheus metrics (see the package
// documentation) and is a [prom.Collector]. Make one with [New] or
// [Register]; it is safe for concurrent use.
type Metrics struct {
	failures *prom.CounterVec
	attempts *prom.CounterVec
	retries  *prom.CounterVec
	breaker  *prom.GaugeVec
	pages    *prom.CounterVec

	allowed map[string]bool // nil: the first max hosts seen
	max     int

	statuses [500]string // the label values of 100 to 599, made once

	mu        sync.RWMutex
	upstreams map[string]*upstreamMetrics // by host as seen, "other" included
}

// upstreamMetrics are one upstream label's children, looked up once.
type upstreamMetrics struct {
	label    string
	attempts [numOutcomes]prom.Counter
	retries  prom.Counter
}

var _ prom.Collector = (*Metrics)(nil)

// New returns Metrics configured by cfg, not registered.
func New(cfg Config) *Metrics {
	m := &Metrics{
		failures: prom.NewCounterVec(prom.CounterOpts{
			Name: "gatehouse_upstream_failures_total",
			Help: "Failures handled by the gateway, once per request after any retries, by RFC 9209 error type (kind), status sent to the client and upstream host; clients that went away are not counted.",
		}, []string{"kind", "status", "upstream"}),
		attempts: prom.NewCounterVec(prom.CounterOpts{
			Name: "gatehouse_upstream_attempts_total",
			Help: "Attempts sent to upstream hosts, retries included, by outcome: success (a response that is not a failure), failure or client_closed.",
		}, []string{"upstream", "outcome"}),
		retries: prom.NewCounterVec(prom.CounterOpts{
			Name: "gatehouse_retries_total",
			Help: "Attempts to an upstream host that were followed by a retry.",
		}, []string{"upstream"}),
		breaker: prom.NewGaugeVec(prom.GaugeOpts{
			Name: "gatehouse_breaker_state",
			Help: "State of the circuit breaker of an upstream host: 0 closed, 1 half-open, 2 open.",
		}, []string{"upstream"}),
		pages: prom.NewCounterVec(prom.CounterOpts{
			Name: "gatehouse_pages_total",
			Help: "Error pages served, by status, RFC 9209 error type (kind; empty for a page served by status alone) and format.",
		}, []string{"status", "kind", "format"}),
		max:       cfg.MaxUpstreams,
		upstreams: make(map[string]*upstreamMetrics),
	}
	if m.max <= 0 {
		m.max = 32
	}
	for i := range m.statuses {
		m.statuses[i] = strconv.Itoa(100 + i)
	}
	if cfg.Upstreams != nil {
		m.allowed = make(map[string]bool, len(cfg.Upstreams))
		for _, u := range cfg.Upstreams {
			m.allowed[u] = true
		}
	}
	return m
}

// Register returns [New](cfg) registered with reg.
func Register(reg prom.Registerer, cfg Config) (*Metrics, error) {
	m := New(cfg)
	if err := reg.Register(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Describe sends the descriptors of the five metrics.
func (m *Metrics) Describe(ch chan<- *prom.Desc) {
	m.failures.Describe(ch)
	m.attempts.Describe(ch)
	m.retries.Describe(ch)
	m.breaker.Describe(ch)
	m.pages.Describe(ch)
}

// Collect sends the metrics' current values.
func (m *Metrics) Collect(ch chan<- prom.Metric) {
	m.failures.Collect(ch)
	m.attempts.Collect(ch)
	m.retries.Collect(ch)
	m.breaker.Collect(ch)
	m.pages.Collect(ch)
}

// Options returns opts with the metrics' hooks in OnError, OnAttempt and
// OnStateChange, each calling the hook opts had, if any, after counting.
// When opts.Pages is nil, it is set to the default pages with their
// OnServe counting pages (see [Metrics.PagesConfig]); Pages of your own
// are counted only if they were built from a Config passed through
// PagesConfig.
func (m *Metrics) Options(opts middleware.Options) middleware.Options {
	onError, onAttempt, onState := opts.OnError, opts.OnAttempt, opts.OnStateChange
	opts.OnError = func(r *http.Request, e *gatewayerr.Error) {
		m.failure(e)
		if onError != nil {
			onError(r, e)
		}
	}
	opts.OnAttempt = func(a middleware.Attempt) {
		m.attempt(a)
		if onAttempt != nil {
			onAttempt(a)
		}
	}
	opts.OnStateChange = func(upstream string, from, to middleware.BreakerState) {
		m.breakerState(upstream, to)
		if onState != nil {
			onState(upstream, from, to)
		}
	}
	if opts.Pages == nil {
		pages, err := errorpage.New(m.PagesConfig(errorpage.Config{}))
		if err != nil {
			panic("gatehouse/contrib/prometheus: the default pages are broken: " + err.Error())
		}
		opts.Pages = pages
	}
	return opts
}

// InstrumentTransport sets the metrics' hooks in a Transport of your own,
// as [Metrics.Options] does for NewReverseProxy's, chaining the ones it
// has. Call it before the Transport's first use.
func (m *Metrics) InstrumentTransport(t *middleware.Transport) {
	o := m.Options(middleware.Options{
		OnError:       t.OnError,
		OnAttempt:     t.OnAttempt,
		OnStateChange: t.OnStateChange,
		Pages:         errorpage.Default(), // not used: spares building pages
	})
	t.OnError, t.OnAttempt, t.OnStateChange = o.OnError, o.OnAttempt, o.OnStateChange
}

// PagesConfig returns cfg with an OnServe hook that counts pages in
// gatehouse_pages_total, calling cfg's own OnServe, if any, after.
func (m *Metrics) PagesConfig(cfg errorpage.Config) errorpage.Config {
	onServe := cfg.OnServe
	cfg.OnServe = func(s errorpage.ServedPage) {
		// A page with no kind behind it (a replaced status) is served by
		// its status, whether ServeStatus or ServeError wrote it.
		kind := ""
		if s.Err != nil && s.Err.Kind != gatewayerr.Unknown {
			kind = s.Err.ErrorType()
		}
		m.pages.WithLabelValues(m.statusLabel(s.Status), kind, s.Format.String()).Inc()
		if onServe != nil {
			onServe(s)
		}
	}
	return cfg
}

// failure counts e in gatehouse_upstream_failures_total.
func (m *Metrics) failure(e *gatewayerr.Error) {
	if e.Kind == gatewayerr.ClientClosedRequest {
		return
	}
	// The status the client got, as the middleware logs it: the
	// upstream's for a body that failed once the response was on its way.
	status := e.StatusCode()
	if e.Phase == gatewayerr.PhaseReadBody && e.ReceivedStatus != 0 {
		status = e.ReceivedStatus
	}
	upstream := ""
	if e.Upstream != "" {
		upstream = m.upstream(e.Upstream).label
	}
	m.failures.WithLabelValues(e.ErrorType(), m.statusLabel(status), upstream).Inc()
}

// attempt counts a in gatehouse_upstream_attempts_total and
// gatehouse_retries_total.
func (m *Metrics) attempt(a middleware.Attempt) {
	u := m.upstream(a.Upstream)
	o := outcomeSuccess
	if a.Err != nil {
		o = outcomeFailure
		if a.Err.Kind == gatewayerr.ClientClosedRequest {
			o = outcomeClientClosed
		}
	}
	u.attempts[o].Inc()
	if a.Retry {
		u.retries.Inc()
	}
}

// breakerState sets gatehouse_breaker_state for upstream.
func (m *Metrics) breakerState(upstream string, s middleware.BreakerState) {
	m.breaker.WithLabelValues(m.upstream(upstream).label).Set(float64(s))
}

// upstream returns the metrics of host's label, made on first use.
func (m *Metrics) upstream(host string) *upstreamMetrics {
	m.mu.RLock()
	u := m.upstreams[host]
	m.mu.RUnlock()
	if u != nil {
		return u
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if u = m.upstreams[host]; u != nil {
		return u
	}
	label := host
	if m.allowed != nil && !m.allowed[host] || m.allowed == nil && len(m.upstreams) >= m.max {
		label = otherUpstream
		if u = m.upstreams[otherUpstream]; u != nil {
			// Not remembered under host: the map stays bounded.
			return u
		}
		host = otherUpstream
	}
	u = &upstreamMetrics{label: label, retries: m.retries.WithLabelValues(label)}
	for i, name := range outcomeNames {
		u.attempts[i] = m.attempts.WithLabelValues(label, name)
	}
	m.upstreams[host] = u
	return u
}

// statusLabel returns status as a label value: its number from 100 to
// 599, "other" outside.
func (m *Metrics) statusLabel(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return m.statuses[status-100]
}
