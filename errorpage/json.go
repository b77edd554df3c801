package errorpage

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

func jsonValid(b []byte) bool { return json.Valid(b) }

// writeJSON writes the page of j as an RFC 9457 problem document or, for
// [JSON], as a plain JSON object with the same members, without reflection.
//
// Problem documents have type ("about:blank", or Config.ProblemTypeBase,
// which New ends with a "/", followed by the kind's token), title (the status's name), status, detail
// and instance (the request's path), plus the extension members kind,
// received_status, request_id, time, retry_after (seconds) and, with debug
// details, debug.
func (p *Pages) writeJSON(buf *bytes.Buffer, j *job) {
	l := p.locales[j.loc]
	g := j.group()
	var scratch [64]byte
	buf.WriteByte('{')
	if j.format == ProblemJSON {
		buf.WriteString(`"type":`)
		if p.problemBase != "" && j.ge != nil {
			buf.WriteByte('"')
			writeJSONChars(buf, p.problemBase)
			writeJSONChars(buf, j.ge.Kind.String())
			buf.WriteByte('"')
		} else {
			buf.WriteString(`"about:blank"`)
		}
		buf.WriteString(`,"title":`)
		writeJSONString(buf, l.statusText(j.status))
		buf.WriteString(`,"status":`)
		buf.Write(strconv.AppendInt(scratch[:0], int64(j.status), 10))
		buf.WriteString(`,"detail":`)
		writeJSONString(buf, l.text("detail."+groupNames[g]))
		if path := j.escapedPath(); path != "" {
			buf.WriteString(`,"instance":`)
			writeJSONString(buf, clean(path, 2048))
		}
	} else {
		buf.WriteString(`"status":`)
		buf.Write(strconv.AppendInt(scratch[:0], int64(j.status), 10))
		buf.WriteString(`,"error":`)
		writeJSONString(buf, l.statusText(j.status))
		buf.WriteString(`,"title":`)
		writeJSONString(buf, l.text("title."+groupNames[g]))
		buf.WriteString(`,"detail":`)
		writeJSONString(buf, l.text("detail."+groupNames[g]))
	}
	if j.ge != nil {
		buf.WriteString(`,"kind":`)
		writeJSONString(buf, j.ge.Kind.String())
		if j.ge.ReceivedStatus > 0 {
			buf.WriteString(`,"received_status":`)
			buf.Write(strconv.AppendInt(scratch[:0], int64(j.ge.ReceivedStatus), 10))
		}
	}
	buf.WriteString(`,"request_id":`)
	writeJSONString(buf, j.rid)
	buf.WriteString(`,"time":"`)
	buf.Write(j.now.UTC().AppendFormat(scratch[:0], time.RFC3339))
	buf.WriteByte('"')
	if j.retry > 0 {
		buf.WriteString(`,"retry_after":`)
		buf.Write(strconv.AppendInt(scratch[:0], int64((j.retry+time.Second-1)/time.Second), 10))
	}
	if j.debug && j.ge != nil {
		d := debugOf(j.ge, j.retry)
		d.Hint = operatorHint(j.ge.Kind, g)
		buf.WriteString(`,"debug":{"kind":`)
		writeJSONString(buf, d.Kind)
		for _, f := range [...]struct{ k, v string }{{"phase", d.Phase}, {"upstream", d.Upstream}, {"cause", d.Cause}, {"retry_after", d.RetryAfter}, {"hint", d.Hint}} {
			if f.v != "" {
				buf.WriteString(`,"` + f.k + `":`)
				writeJSONString(buf, f.v)
			}
		}
		if d.Attempts > 0 {
			buf.WriteString(`,"attempts":`)
			buf.Write(strconv.AppendInt(scratch[:0], int64(d.Attempts), 10))
		}
		if len(d.Proxies) > 0 {
			buf.WriteString(`,"proxy_status":[`)
			for i, s := range d.Proxies {
				if i > 0 {
					buf.WriteByte(',')
				}
				writeJSONString(buf, s)
			}
			buf.WriteByte(']')
		}
		buf.WriteByte('}')
	}
	buf.WriteString("}\n")
}

// writeJSONString writes s as a JSON string.
func writeJSONString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	writeJSONChars(buf, s)
	buf.WriteByte('"')
}

const hexDigits = "0123456789abcdef"

// writeJSONChars writes s escaped for a JSON string, as encoding/json does
// with HTML escaping: <, > and & as \u escapes, invalid UTF-8 as U+FFFD,
// and U+2028 and U+2029 escaped.
func writeJSONChars(buf *bytes.Buffer, s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			case '\b':
				buf.WriteString(`\b`)
			case '\f':
				buf.WriteString(`\f`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
}
