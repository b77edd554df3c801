package errorpage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestCopyAgrees renders every kind (answered by the gateway, or with the
// upstream's own 502, 503 or 504), the maintenance page and every status
// page, with and without a known retry time, in every format and language,
// and checks that the strip, the headline and the remedies never
// contradict one another:
//
//   - a failure the gateway decided (proxy_internal_error, a loop, its
//     configuration) marks the gateway, and the service is not reached;
//     any other failure of a service marks the service or a proxy, never
//     the gateway;
//   - maintenance is not an error: no hop says "Error", the service says
//     it is under maintenance;
//   - failures nothing on the visitor's side can fix (certificates, the
//     gateway's own) never advise reloading; a page with a retry time gives
//     that time only, never "in a minute or two" or "a little while";
//   - advice about the visitor's connection, proxy or VPN appears only on
//     the visitor's side of things (4xx);
//   - the page shows every piece of copy it was given: the headline (or,
//     for problem documents, the detail) and every remedy.
func TestCopyAgrees(t *testing.T) {
	p := newPages(t, Config{Brand: Brand{StatusURL: "https://status.example/", SupportURL: "mailto:help@example.com"}})
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

	type page struct {
		name   string
		status int
		ge     *gatewayerr.Error
	}
	// What the test expects, told apart here rather than by the code
	// under test: the failures the gateway decides itself, and those that
	// nothing on the visitor's side fixes.
	gatewayKinds := []gatewayerr.Kind{gatewayerr.ProxyInternalError, gatewayerr.ProxyLoopDetected,
		gatewayerr.ProxyConfigurationError, gatewayerr.DestinationNotFound, gatewayerr.DestinationIPProhibited}
	tlsKinds := []gatewayerr.Kind{gatewayerr.TLSCertificateError, gatewayerr.TLSProtocolError, gatewayerr.TLSAlertReceived}
	gatewaySide := func(pg page) bool {
		if pg.ge == nil {
			return pg.status == 500 || pg.status == 501
		}
		// proxy_internal_response is the gateway's own answer, unless
		// it carries the upstream's status.
		return slices.Contains(gatewayKinds, pg.ge.Kind) || pg.ge.Kind == gatewayerr.ProxyInternalResponse && pg.ge.ReceivedStatus == 0
	}
	waitOnly := func(pg page) bool { return gatewaySide(pg) || pg.ge != nil && slices.Contains(tlsKinds, pg.ge.Kind) }
	maintenance := func(pg page) bool { return pg.name == "maintenance" || pg.name == "503" }
	clientSide := func(pg page) bool { return pg.status < 500 }
	var pages []page
	for _, k := range gatewayerr.Kinds() {
		for _, recv := range []int{0, 502, 503, 504} {
			if k == gatewayerr.ClientClosedRequest && recv != 0 {
				continue // no one to serve: the client is gone
			}
			ge := &gatewayerr.Error{Kind: k, ReceivedStatus: recv}
			pages = append(pages, page{fmt.Sprintf("%s/%d", k, recv), ge.StatusCode(), ge})
		}
	}
	pages = append(pages, page{"maintenance", 503, &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: ErrMaintenance}})
	for _, s := range []int{400, 401, 403, 404, 408, 413, 418, 429, 500, 501, 502, 503, 504} {
		pages = append(pages, page{fmt.Sprint(s), s, nil})
	}

	for loc, l := range p.locales[:len(builtinLanguages)] {
		t.Run(l.tag, func(t *testing.T) {
			reload, wait, comeback := l.msg("do.reload"), l.msg("do.wait"), l.msg("do.comeback")
			visitorSide := []string{l.msg("do.connection"), l.msg("do.vpn")}
			for _, pg := range pages {
				for _, retry := range []time.Duration{0, 30 * time.Second} {
					j := job{status: pg.status, ge: pg.ge, loc: loc, now: now, retry: retry, rid: "r1", format: HTML}
					d := p.data(&j)
					what := fmt.Sprintf("%s (retry %v)", pg.name, retry)

					// The strip.
					failedAt, maintAt := -1, -1
					for i, h := range d.Hops {
						switch h.State {
						case HopFailed:
							failedAt = i
						case HopMaintenance:
							maintAt = i
						}
					}
					switch {
					case clientSide(pg):
						if len(d.Hops) != 0 {
							t.Errorf("%s: a failure on the visitor's side has a strip", what)
						}
					case maintenance(pg):
						if d.HopsTitle != l.msg("hop.title.stopped") {
							t.Errorf("%s: the strip of maintenance is titled %q", what, d.HopsTitle)
						}
						if failedAt >= 0 || maintAt != len(d.Hops)-1 || d.Hops[maintAt].StatusText != l.msg("hop.maintenance") {
							t.Errorf("%s: maintenance strip %+v", what, d.Hops)
						}
					case d.HopsTitle != l.msg("hop.title"):
						t.Errorf("%s: the strip is titled %q", what, d.HopsTitle)
					case gatewaySide(pg):
						if failedAt != 1 || d.Hops[len(d.Hops)-1].State != HopSkipped {
							t.Errorf("%s: the gateway's own failure marks hop %d: %+v", what, failedAt, d.Hops)
						}
					default:
						if failedAt < 2 {
							t.Errorf("%s: a failure of the service marks hop %d: %+v", what, failedAt, d.Hops)
						}
					}

					// The headline, in English: the gateway's own failure
					// does not blame the service.
					if l.tag == "en" && gatewaySide(pg) && strings.Contains(d.Title+" "+d.Detail, "The service") {
						t.Errorf("%s: the gateway's own failure blames the service: %q %q", what, d.Title, d.Detail)
					}

					// The remedies.
					var texts []string
					for _, a := range d.Actions {
						texts = append(texts, a.Text)
					}
					if waitOnly(pg) && (slices.Contains(texts, reload) || slices.Contains(texts, wait)) {
						t.Errorf("%s: advises reloading, which cannot fix it", what)
					}
					if retry > 0 && (slices.Contains(texts, reload) || slices.Contains(texts, wait) || slices.Contains(texts, comeback)) {
						t.Errorf("%s: gives a vague time beside the retry time: %q", what, texts)
					}
					if retry > 0 && d.Retry == "" {
						t.Errorf("%s: no retry sentence", what)
					}
					if !clientSide(pg) {
						for _, v := range visitorSide {
							if slices.Contains(texts, v) {
								t.Errorf("%s: blames the visitor's connection for a failure behind the gateway", what)
							}
						}
					}
					if pg.status >= 500 && !slices.ContainsFunc(d.Actions, func(a Action) bool { return a.URL == "https://status.example/" }) {
						t.Errorf("%s: no status page link", what)
					}
					if len(d.Actions) == 0 && d.Retry == "" && pg.status != 401 {
						t.Errorf("%s: no remedy at all", what)
					}

					// Every format shows that copy.
					for _, f := range []Format{HTML, Text, ProblemJSON, JSON} {
						j.format = f
						var buf bytes.Buffer
						p.render(&buf, &j)
						body := buf.String()
						switch f {
						case HTML:
							body = html.UnescapeString(body)
						case ProblemJSON, JSON:
							var m map[string]any
							if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
								t.Fatalf("%s %s: %v", what, f, err)
							}
							if m["detail"] != d.Detail || (f == JSON && m["title"] != d.Title) {
								t.Errorf("%s %s: detail %q, want %q", what, f, m["detail"], d.Detail)
							}
							continue
						}
						if !strings.Contains(body, d.Title) {
							t.Errorf("%s %s: lacks the headline %q", what, f, d.Title)
						}
						for _, s := range append(texts, d.Retry) {
							if !strings.Contains(body, s) {
								t.Errorf("%s %s: lacks the remedy %q", what, f, s)
							}
						}
						if maintenance(pg) {
							if f == HTML && strings.Contains(body, "<small>"+l.msg("hop.error")+"</small>") || f == Text && strings.Contains(body, "[X]") {
								t.Errorf("%s %s: maintenance shown as an error", what, f)
							}
						}
					}
				}
			}
		})
	}
}

// TestCatalogsTranslated checks that every embedded language has its own
// text for every message, rather than English's, except for the few words
// a language borrows as they are.
func TestCatalogsTranslated(t *testing.T) {
	en, err := loadCatalog("en")
	if err != nil {
		t.Fatal(err)
	}
	borrowed := map[string][]string{ // language → keys whose English word it uses
		"de": {"hop.gateway", "hop.proxy"},
		"fr": {"hop.upstream", "hop.proxy"},
		"es": {"hop.proxy", "hop.error"},
		"it": {"hop.gateway", "hop.proxy"},
		"pt": {"hop.gateway", "hop.proxy"},
		"nl": {"hop.gateway", "hop.proxy"},
	}
	for _, tag := range Languages()[1:] {
		c, err := loadCatalog(tag)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range slices.Sorted(maps.Keys(en)) {
			if !strings.HasPrefix(k, "status.") && c[k] == en[k] && !slices.Contains(borrowed[tag], k) {
				t.Errorf("%s: %s is English: %q", tag, k, c[k])
			}
		}
	}
}
