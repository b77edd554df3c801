package errorpage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// jsonValue is the "json" function of JSON templates: v encoded as JSON.
func jsonValue(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// render writes the body of the page j describes to buf.
func (p *Pages) render(buf *bytes.Buffer, j *job) {
	pg := p.set(j.format).page(j.status)
	if pg == nil {
		if j.format == HTML || j.format == Text {
			// Only if parsing the templates again failed, which New
			// did without error.
			p.writeStatusLine(buf, j)
			return
		}
		p.writeJSON(buf, j) // problem+json, or JSON without a template
		return
	}
	if pg.cacheable && !pg.reflects && !j.debug && (j.ge == nil || len(j.ge.Chain) == 0) {
		var m moment
		if j.retry > 0 {
			m = momentOf(j.now, j.retry)
		}
		if seg := p.cached(pg, j, m.dated); seg != nil {
			var v slotValues
			p.fill(&v, j, &m)
			var secs [20]byte
			if j.refresh && j.retry > 0 {
				v.refresh = strconv.AppendInt(secs[:0], m.refreshSeconds(j.now), 10)
			}
			seg.write(buf, &v)
			return
		}
	}
	d := p.data(j)
	if err := pg.exec(buf, d); err != nil || (j.format == JSON && !jsonValid(buf.Bytes())) {
		// Templates were executed against sample data in New; should one
		// still fail for this request's data (a branch the samples did not
		// reach, a value that breaks a hand-written JSON string), the
		// visitor gets the built-in JSON document, or a plain status line.
		buf.Reset()
		if j.format == JSON {
			p.writeJSON(buf, j)
			return
		}
		p.writeStatusLine(buf, j)
	}
}

// writeStatusLine writes the page of last resort for j, when its template
// cannot render it: the status and its name, on one line.
func (p *Pages) writeStatusLine(buf *bytes.Buffer, j *job) {
	fmt.Fprintf(buf, "%d %s\n", j.status, p.locales[j.loc].statusText(j.status))
}

// data returns the template data of j.
func (p *Pages) data(j *job) *Data {
	l := p.locales[j.loc]
	g := j.group()
	d := &Data{
		Status:     j.status,
		StatusText: l.statusText(j.status),
		Title:      l.text("title." + groupNames[g]),
		Detail:     l.text("detail." + groupNames[g]),
		RequestID:  j.rid,
		Time:       string(appendTime(nil, j.now)),
		TimeISO:    j.now.UTC().Format(time.RFC3339),
		Lang:       l.tag,
		Dir:        l.dir,
		Host:       clean(j.host, 256),
		Path:       clean(j.escapedPath(), 2048),
		Brand:      p.brand,
		T:          l.messages(),
	}
	d.Actions = actions(l, &p.brand, g, j.status, j.retry > 0)
	var chain []gatewayerr.ProxyStatus
	if j.ge != nil {
		d.Kind = j.ge.Kind.String()
		chain = j.ge.Chain
	}
	d.Hops = hops(l, g, chain, j.debug)
	if len(d.Hops) > 0 {
		d.HopsTitle = l.text("hop.title")
		if g == gMaintenance {
			d.HopsTitle = l.text("hop.title.stopped")
		}
	}
	if j.retry > 0 {
		d.RetryAt = string(appendRetryAt(nil, l, j.now, j.retry))
		if j.refresh {
			d.Refresh = strconv.FormatInt(refreshSeconds(j.now, j.retry), 10)
		}
		d.Retry = l.retry(d.RetryAt, j.refresh, j.dated())
	}
	if j.debug && j.ge != nil {
		d.Debug = debugOf(j.ge, j.retry)
		d.Debug.Hint = operatorHint(j.ge.Kind, g)
	}
	return d
}

// debugOf returns the operator's details of ge.
func debugOf(ge *gatewayerr.Error, retry time.Duration) *Debug {
	dbg := &Debug{
		Kind:           ge.Kind.String(),
		Upstream:       clean(ge.Upstream, 256),
		Attempts:       ge.Attempts,
		ReceivedStatus: ge.ReceivedStatus,
	}
	if dbg.Upstream == "" {
		dbg.Upstream = clean(ge.NextHop, 256)
	}
	if ge.Phase != gatewayerr.PhaseUnknown {
		dbg.Phase = ge.Phase.String()
	}
	if ge.Err != nil {
		dbg.Cause = clean(ge.Err.Error(), 1000)
	}
	if retry > 0 {
		dbg.RetryAfter = retry.String()
	}
	for i := len(ge.Chain) - 1; i >= 0 && len(dbg.Proxies) < maxChainHops; i-- {
		ps := ge.Chain[i]
		s := ps.Proxy
		if ps.Error != "" {
			s += ": " + ps.Error
		}
		if ps.ReceivedStatus != 0 {
			s += " (" + strconv.Itoa(ps.ReceivedStatus) + ")"
		}
		dbg.Proxies = append(dbg.Proxies, clean(s, 200))
	}
	return dbg
}

// appendTime appends t in UTC as "2006-01-02 15:04:05 UTC".
func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02 15:04:05 UTC")
}

// retryMoment returns the moment now+d as pages state it, in UTC: to the
// second when it is less than an hour away and today, to the minute
// otherwise (the dated layouts stop at the minute), rounded up, so that it
// is never too early; and the precision.
func retryMoment(now time.Time, d time.Duration) (time.Time, time.Duration) {
	// In whole seconds since the epoch: a UTC day is 86400 of them, and
	// seconds and minutes are aligned on it, so that the dates compare and
	// the moment rounds up without time.Date.
	t := now.Add(d)
	sec := t.Unix()
	precision := time.Second
	if d >= time.Hour || day(sec) != day(now.Unix()) {
		precision = time.Minute
	}
	if t.Nanosecond() != 0 {
		sec++
	}
	if r := sec % 60; precision == time.Minute && r != 0 {
		if r < 0 {
			r += 60
		}
		sec += 60 - r
	}
	return time.Unix(sec, 0).UTC(), precision
}

// day returns the UTC day of the moment sec seconds after the epoch, in
// days after it.
func day(sec int64) int64 {
	if sec < 0 {
		return (sec+1)/86400 - 1
	}
	return sec / 86400
}

// A moment is a retry moment as pages state it (see retryMoment).
type moment struct {
	t         time.Time // in UTC, a whole second or minute
	precision time.Duration
	dated     bool // not on the day of the failure: told with its date
}

// momentOf returns the moment now+d as pages state it.
func momentOf(now time.Time, d time.Duration) moment {
	t, precision := retryMoment(now, d)
	return moment{t: t, precision: precision, dated: day(t.Unix()) != day(now.Unix())}
}

// sameDay reports whether the moment now+d (see retryMoment) falls on the
// same day as now, in UTC.
func sameDay(now time.Time, d time.Duration) bool { return !momentOf(now, d).dated }

// appendRetryAt appends the moment now+d (see retryMoment) as the language
// l writes it: its time of day, with its date (l's "format.datetime") when
// it is not on the same day as now.
func appendRetryAt(b []byte, l *locale, now time.Time, d time.Duration) []byte {
	m := momentOf(now, d)
	return m.append(b, l)
}

// append appends m as the language l writes it (see appendRetryAt).
func (m *moment) append(b []byte, l *locale) []byte {
	if !m.dated {
		if m.precision == time.Second {
			return m.t.AppendFormat(b, "15:04:05 UTC")
		}
		return m.t.AppendFormat(b, "15:04 UTC")
	}
	return m.t.AppendFormat(b, l.text("format.datetime"))
}

// refreshSeconds returns the delay, in whole seconds, after which a page
// that refreshes itself reloads: at the moment it states (retryMoment),
// never before.
func refreshSeconds(now time.Time, d time.Duration) int64 {
	m := momentOf(now, d)
	return m.refreshSeconds(now)
}

// refreshSeconds is refreshSeconds(now, d) for m, the moment now+d.
func (m *moment) refreshSeconds(now time.Time) int64 {
	return int64((m.t.Sub(now) + time.Second - 1) / time.Second)
}

// clean returns s as valid UTF-8 without control characters (replaced by
// U+FFFD), cut to at most max bytes.
func clean(s string, max int) string {
	ok := len(s) <= max
	for i := 0; ok && i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			ok = false // a control character, or not ASCII: check it all
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControlOrBreak(r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
