package errorpage

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// Rendered pages are cached as segments: the output of a template executed
// with sentinels in place of the values that change with every request
// (request ID, times), split at the sentinels. Serving a cached page is
// writing the segments with the request's values between them. New checks
// that this gives exactly what executing the template would.

// The per-request values, in the order of their sentinels.
const (
	slotRequestID = iota
	slotTime
	slotTimeISO
	slotRetryAt
	slotRefresh
	numSlots
)

// sentinelPrefix starts every sentinel; letters and digits only, so that no
// escaper changes it.
const sentinelPrefix = "Zq7xGhS"

var sentinels = [numSlots]string{sentinelPrefix + "0x", sentinelPrefix + "1x", sentinelPrefix + "2x", sentinelPrefix + "3x", sentinelPrefix + "4x"}

// A pageKey is everything a cacheable page depends on.
type pageKey struct {
	format  Format
	loc     uint8
	retry   bool
	dated   bool // the retry moment is told with its date
	refresh bool
	kind    uint8 // the kind + 1, or 0 for a page served by status
	group   group // the copy, which also follows the upstream's own status
	status  uint16
}

// segments is a rendered page: parts[0], slot[0]'s value, parts[1], ...
type segments struct {
	key   pageKey // what the page depends on
	parts []string
	slots []uint8
	size  int
	// direct marks a page that cannot be cached: it depends on more than
	// the key and the slots, such as the request's host or path.
	direct bool
}

// slotValues are the values of the slots of one page.
type slotValues struct {
	rid, time, timeISO, retryAt string
	refresh                     []byte
}

// len returns the length of the value of slot sl.
func (v *slotValues) len(sl uint8) int {
	switch sl {
	case slotRequestID:
		return len(v.rid)
	case slotTime:
		return len(v.time)
	case slotTimeISO:
		return len(v.timeISO)
	case slotRetryAt:
		return len(v.retryAt)
	}
	return len(v.refresh)
}

func (s *segments) write(buf *bytes.Buffer, v *slotValues) {
	n := s.size
	for _, sl := range s.slots {
		n += v.len(sl)
	}
	buf.Grow(n)
	buf.WriteString(s.parts[0])
	for i, sl := range s.slots {
		switch sl {
		case slotRequestID:
			buf.WriteString(v.rid)
		case slotTime:
			buf.WriteString(v.time)
		case slotTimeISO:
			buf.WriteString(v.timeISO)
		case slotRetryAt:
			buf.WriteString(v.retryAt)
		default:
			buf.Write(v.refresh)
		}
		buf.WriteString(s.parts[i+1])
	}
}

// A stamp is the time of a failure as pages show it, formatted, for one
// second: the pages served within that second share it.
type stamp struct {
	unix          int64
	text, textISO string
}

// stampOf returns the stamp of now: the one of the page served last when
// it was served within the same second (the formats show whole seconds),
// else a new one, which the next pages share.
func (p *Pages) stampOf(now time.Time) *stamp {
	sec := now.Unix()
	if s := p.stamp.Load(); s != nil && s.unix == sec {
		return s
	}
	s := &stamp{unix: sec, text: string(appendTime(nil, now)), textISO: now.UTC().Format(time.RFC3339)}
	p.stamp.Store(s)
	return s
}

// A retryText is a retry moment as a language writes it.
type retryText struct {
	loc       int
	unix      int64 // the moment
	precision time.Duration
	dated     bool
	text      string
}

// retryAt returns m written in the language loc: the text of the page
// served last when it told the same moment in the same language (the
// moment is a whole second or minute, the same for every page while a
// breaker is open or a maintenance lasts), else a new one, which the next
// pages share.
func (p *Pages) retryAt(loc int, m *moment) string {
	u := m.t.Unix()
	if c := p.lastRetry.Load(); c != nil && c.loc == loc && c.unix == u && c.precision == m.precision && c.dated == m.dated {
		return c.text
	}
	c := &retryText{loc: loc, unix: u, precision: m.precision, dated: m.dated, text: string(m.append(nil, p.locales[loc]))}
	p.lastRetry.Store(c)
	return c.text
}

// fill sets the values of the slots of j's page but the refresh delay; m
// is j's retry moment, when j.retry > 0.
func (p *Pages) fill(v *slotValues, j *job, m *moment) {
	s := p.stampOf(j.now)
	v.rid, v.time, v.timeISO = j.rid, s.text, s.textISO
	if j.retry > 0 {
		v.retryAt = p.retryAt(j.loc, m)
	}
}

// split cuts a page rendered with sentinels into segments.
func split(out string) *segments {
	s := &segments{}
	for {
		i := strings.Index(out, sentinelPrefix)
		if i < 0 || i+len(sentinels[0]) > len(out) {
			break
		}
		slot := -1
		for k, sn := range sentinels {
			if strings.HasPrefix(out[i:], sn) {
				slot = k
			}
		}
		if slot < 0 {
			break // not ours: the page is cached as it is
		}
		s.parts = append(s.parts, out[:i])
		s.slots = append(s.slots, uint8(slot))
		out = out[i+len(sentinels[slot]):]
	}
	s.parts = append(s.parts, out)
	for _, p := range s.parts {
		s.size += len(p)
	}
	return s
}

// maxCached bounds the cache. Its keys are few in practice (the statuses a
// gateway serves times the languages and formats asked for); past the
// bound, pages are rendered without caching.
const maxCached = 4096

// probes are two requests as unlike each other as a request can be in
// what a cached page does not depend on: host, path and the slots' values.
// A page is cached only if, filled in, it is the page that the template
// renders for both: whatever way a template reaches the host or path (a
// field, printf of the whole Data, with, index), the two renderings differ
// and the page is rendered for every request instead.
var probes = [...]struct {
	host, path, rid string
	now             time.Time
}{
	{"h-alpha.example", "/alpha", "Ab9-._:/=;z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	{"", "/b/%3Cc%3E/a-much-longer-path/than-the-other-one.html", "Q7", time.Date(2031, 11, 30, 22, 58, 59, 0, time.UTC)},
}

// segments returns the cached page for j, rendering it on first use; nil
// if it cannot be cached. On first use it checks the page against the
// probes; a page that fails is remembered as direct.
func (p *Pages) segments(pg *page, j *job) *segments { return p.cached(pg, j, j.dated()) }

// cached is segments for j, whose retry moment is dated or not (see
// job.dated).
func (p *Pages) cached(pg *page, j *job, dated bool) *segments {
	key := pageKey{format: j.format, loc: uint8(j.loc), retry: j.retry > 0, dated: dated, refresh: j.refresh, group: j.group(), status: uint16(j.status)}
	if j.loc > 255 {
		return nil
	}
	if j.ge != nil {
		key.kind = uint8(j.ge.Kind) + 1
	}
	// The page served last is most often the one asked for again: while
	// an upstream is down, its visitors all get the same page.
	seg := p.lastPage.Load()
	if seg == nil || seg.key != key {
		p.mu.RLock()
		seg = p.cache[key]
		p.mu.RUnlock()
		if seg != nil {
			p.lastPage.Store(seg)
		}
	}
	if seg != nil {
		if seg.direct {
			return nil
		}
		return seg
	}
	d := p.data(j)
	d.RequestID, d.Time, d.TimeISO = sentinels[slotRequestID], sentinels[slotTime], sentinels[slotTimeISO]
	if d.RetryAt != "" {
		d.RetryAt = sentinels[slotRetryAt]
		d.Retry = p.locales[j.loc].retry(d.RetryAt, d.Refresh != "", dated)
	}
	if d.Refresh != "" {
		d.Refresh = sentinels[slotRefresh]
	}
	var b bytes.Buffer
	if err := pg.exec(&b, d); err != nil {
		return nil
	}
	seg = split(b.String())
	for _, pr := range probes {
		pj := *j
		pj.host, pj.path, pj.u, pj.rid, pj.now = pr.host, pr.path, nil, pr.rid, pr.now
		if j.retry > 0 {
			// The probe's retry moment is dated as j's is, so that it
			// renders the same sentence: dated is part of the key.
			if pj.retry = time.Minute; dated {
				pj.retry = 48 * time.Hour
			}
		}
		var direct bytes.Buffer
		if err := pg.exec(&direct, p.data(&pj)); err != nil || !p.sameAsCached(&direct, seg, &pj) {
			seg = &segments{direct: true}
			break
		}
	}
	seg.key = key
	p.mu.Lock()
	if len(p.cache) < maxCached {
		p.cache[key] = seg
	}
	p.mu.Unlock()
	if seg.direct {
		return nil
	}
	return seg
}

// check executes every page of sets against sample data, in every language, with
// and without debug details, so that a broken or empty page fails New;
// checks that JSON pages produce JSON; and decides whether each page can be
// cached, by comparing a cached rendering with a direct one. Every page is
// checked on its own, since each status file has its own template set.
func (p *Pages) check(sets [numFormats]*pageSet) error {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	samples := []job{
		{status: 502, ge: &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, Err: errors.New("dial tcp 10.0.0.1:80: connection refused"), Upstream: "10.0.0.1:80", Phase: gatewayerr.PhaseDial, Attempts: 2}, retry: 30 * time.Second},
		{status: 503, ge: &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: ErrMaintenance}, retry: 90 * time.Second, refresh: true},
		{status: 503, ge: &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable}, retry: 26 * time.Hour},
		{status: 502, ge: &gatewayerr.Error{Kind: gatewayerr.Unknown, ReceivedStatus: 502, Chain: []gatewayerr.ProxyStatus{{Proxy: "origin"}, {Proxy: "edge", Kind: gatewayerr.ConnectionTimeout, Error: "connection_timeout"}}}},
		{status: 500, ge: &gatewayerr.Error{Kind: gatewayerr.ProxyInternalError, Err: errors.New("panic: boom")}},
		{status: 503},
		{status: 404},
		{status: 429, retry: 2 * time.Minute},
	}
	// Every kind too, in one language, with and without a response
	// received: a template may branch on .Kind.
	var kinds []job
	for _, k := range gatewayerr.Kinds() {
		for _, received := range []int{0, 502} {
			kinds = append(kinds, job{status: 502, ge: &gatewayerr.Error{Kind: k, ReceivedStatus: received, Err: errors.New("cause")}})
		}
	}
	for f, set := range sets {
		if set == nil {
			continue
		}
		seen := make(map[*page]bool)
		for i, pg := range set.pages {
			if pg == nil || seen[pg] {
				continue
			}
			seen[pg] = true
			for _, s := range kinds {
				j := s
				j.format, j.now, j.rid, j.host, j.path = Format(f), now, "Ab9-._:/=;z", "example.com", "/a/b"
				if set.page(j.status) != pg {
					j.status = 400 + i
				}
				if err := p.checkRender(pg, &j, nil); err != nil {
					return err
				}
			}
			for si, s := range samples {
				for loc := range p.locales {
					for _, debug := range []bool{false, true} {
						j := s
						j.format, j.loc, j.debug, j.now = Format(f), loc, debug, now
						j.rid, j.host, j.path = "Ab9-._:/=;z", "example.com", "/a/b"
						if set.page(j.status) != pg {
							j.status = 400 + i
						}
						var direct bytes.Buffer
						if err := p.checkRender(pg, &j, &direct); err != nil {
							return err
						}
						if !pg.cacheable || debug || (loc > 1 && si > 0) {
							continue
						}
						if seg := p.segments(pg, &j); seg == nil || !p.sameAsCached(&direct, seg, &j) {
							pg.cacheable = false
						}
					}
				}
			}
		}
	}
	for f, set := range sets {
		if set == nil {
			continue
		}
		for i, pg := range set.pages {
			p.uncacheable[f][i] = pg != nil && !pg.cacheable
		}
	}
	// The samples must not stay in the cache: their statuses differ. The
	// languages' texts go too, where they can be made again, and the
	// Data.T tables made for the samples: a Pages that serves no page
	// holds no table, and the texts of no language Config.Messages
	// leaves alone (see locale).
	p.cache = make(map[pageKey]*segments)
	p.lastPage.Store(nil)
	for _, l := range p.locales {
		l.letGo()
	}
	return nil
}

// checkRender renders pg for j into buf (a scratch buffer if nil) and
// returns an error naming pg's file if that fails, renders nothing, or, for
// JSON, renders something else.
func (p *Pages) checkRender(pg *page, j *job, buf *bytes.Buffer) error {
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	kind := ""
	if j.ge != nil {
		kind = ", kind " + j.ge.Kind.String()
	}
	if err := pg.exec(buf, p.data(j)); err != nil {
		return fmt.Errorf("errorpage: template %s (status %d%s): %w", pg.file, j.status, kind, err)
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return fmt.Errorf("errorpage: template %s renders an empty page for status %d%s", pg.file, j.status, kind)
	}
	if j.format == JSON && !jsonValid(buf.Bytes()) {
		return fmt.Errorf("errorpage: template %s does not produce valid JSON for status %d%s: %.200s", pg.file, j.status, kind, buf.Bytes())
	}
	return nil
}

// sameAsCached reports whether the cached page, filled in with j's values,
// is the direct rendering.
func (p *Pages) sameAsCached(direct *bytes.Buffer, seg *segments, j *job) bool {
	var b bytes.Buffer
	var m moment
	if j.retry > 0 {
		m = momentOf(j.now, j.retry)
	}
	var v slotValues
	p.fill(&v, j, &m)
	if j.refresh && j.retry > 0 {
		v.refresh = strconv.AppendInt(nil, m.refreshSeconds(j.now), 10)
	}
	seg.write(&b, &v)
	return bytes.Equal(b.Bytes(), direct.Bytes())
}
