package header

import (
	"strings"

	"golang.org/x/text/language"
)

// A LanguageRange is one element of an Accept-Language header, such as
// "pt-BR;q=0.8".
type LanguageRange struct {
	// Tag is the language range as sent, such as "pt-BR" or "*".
	Tag string

	// Q is the quality in thousandths, 0 to 1000; 1000 when absent.
	Q int
}

// maxTagLength bounds a language range; the longest useful ones
// ("zh-Hant-TW-u-nu-hanidec") are well below it.
const maxTagLength = 64

// ParseAcceptLanguage appends the language ranges of an Accept-Language
// header value to dst, sorted by decreasing quality (stable, so that equal
// qualities keep the client's order), and returns the result. Malformed
// elements are skipped, and so are ranges with quality 0, which the client
// refuses.
func ParseAcceptLanguage(dst []LanguageRange, s string) []LanguageRange {
	if len(s) > MaxLength {
		s = s[:MaxLength]
	}
	start, n := len(dst), 0
	for s != "" && n < MaxEntries {
		var elem string
		elem, s = cutUnquoted(s, ',')
		lr, ok := parseLanguageRange(elem)
		if !ok {
			continue
		}
		n++
		if lr.Q == 0 {
			continue
		}
		dst = append(dst, lr)
	}
	// Insertion sort: stable, allocation-free, and n is at most MaxEntries.
	r := dst[start:]
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Q > r[j-1].Q; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
	return dst
}

func parseLanguageRange(elem string) (LanguageRange, bool) {
	lr := LanguageRange{Q: 1000}
	tag, params, hasParams := strings.Cut(elem, ";")
	tag = trimOWS(tag)
	if !validRange(tag) {
		return lr, false
	}
	lr.Tag = tag
	if hasParams {
		name, value, ok := strings.Cut(trimOWS(params), "=")
		if !ok || (trimOWS(name) != "q" && trimOWS(name) != "Q") {
			return lr, false
		}
		q, ok := parseQ(trimOWS(value))
		if !ok {
			return lr, false
		}
		lr.Q = q
	}
	return lr, true
}

// validRange reports whether s is "*" or a well-formed language range of
// RFC 4647: subtags of 1 to 8 letters or digits separated by hyphens, the
// first one letters only.
func validRange(s string) bool {
	if s == "*" {
		return true
	}
	if s == "" || len(s) > maxTagLength {
		return false
	}
	first, sub := true, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-':
			if sub == 0 {
				return false
			}
			first, sub = false, 0
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && !first:
		case c == '*' && !first && sub == 0:
		default:
			return false
		}
		sub++
		if sub > 8 {
			return false
		}
	}
	return sub > 0
}

// A LanguageMatcher chooses among a fixed set of supported languages. It is
// safe for concurrent use.
type LanguageMatcher struct {
	supported []language.Tag
	matcher   language.Matcher
	exact     map[string]int // lower-case tag → index, for the common cases
}

// NewLanguageMatcher returns a matcher for the supported BCP 47 tags, the
// first being the default. It panics if a tag is malformed: the supported
// set is the program's, not input.
func NewLanguageMatcher(supported ...string) *LanguageMatcher {
	m := &LanguageMatcher{exact: make(map[string]int)}
	for i, s := range supported {
		t := language.MustParse(s)
		m.supported = append(m.supported, t)
		m.exact[strings.ToLower(s)] = i
		base, _ := t.Base()
		if _, ok := m.exact[base.String()]; !ok && base.String() != "zh" {
			m.exact[base.String()] = i
		}
		if base.String() == "zh" {
			script, _ := t.Script()
			if script.String() == "Hans" {
				for _, alias := range []string{"zh", "zh-cn", "zh-sg", "zh-hans-cn", "zh-hans-sg"} {
					m.exact[alias] = i
				}
			}
		}
	}
	m.matcher = language.NewMatcher(m.supported)
	return m
}

// Match returns the index of the supported language that best serves the
// ranges, tried in their order (parse them with [ParseAcceptLanguage]):
// the first range that a supported language serves wins, matching
// exactly, by base language ("pt-BR" is served by "pt"), or as the
// golang.org/x/text/language matcher judges with high confidence ("zh-TW"
// is not served by Simplified Chinese). It returns 0, the default, when
// no range is served, and for "*".
func (m *LanguageMatcher) Match(ranges []LanguageRange) int {
	var buf [maxTagLength]byte
	for _, r := range ranges {
		if r.Tag == "*" {
			return 0
		}
		l := buf[:len(r.Tag)]
		for i := 0; i < len(r.Tag); i++ {
			c := r.Tag[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			l[i] = c
		}
		if i, ok := m.exact[string(l)]; ok {
			return i
		}
		base := l
		if k := strings.IndexByte(r.Tag, '-'); k >= 0 {
			base = l[:k]
		}
		if string(base) != "zh" {
			if i, ok := m.exact[string(base)]; ok {
				return i
			}
			if len(base) <= 3 {
				// A well-known language we do not support: no need to ask
				// the matcher.
				continue
			}
		}
		t, err := language.Parse(r.Tag)
		if err != nil {
			continue
		}
		if _, i, conf := m.matcher.Match(t); conf >= language.High {
			return i
		}
	}
	return 0
}

// Tag returns the supported language at index i.
func (m *LanguageMatcher) Tag(i int) language.Tag { return m.supported[i] }
