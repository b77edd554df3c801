package errorpage

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

//go:embed locales
var embeddedLocales embed.FS

// builtinLanguages are the languages of the embedded catalogs, English, the
// fallback, first.
var builtinLanguages = [...]string{"en", "de", "fr", "es", "it", "pt", "nl", "pl", "uk", "tr", "ja", "zh-Hans", "ko", "ar", "hi"}

// Languages returns the BCP 47 tags of the languages the embedded pages are
// written in, English first. [Config.Messages] can add more.
func Languages() []string { return slices.Clone(builtinLanguages[:]) }

// MessageKeys returns the keys of the embedded message catalogs, sorted:
// the keys [Config.Messages] may override and templates may look up in
// [Data.T].
func MessageKeys() []string {
	en, err := loadCatalog("en")
	if err != nil {
		panic(err) // the embedded English catalog is part of the program
	}
	return slices.Sorted(maps.Keys(en))
}

// locale is one language's complete catalog.
type locale struct {
	tag  string            // as in builtinLanguages or Config.Messages
	dir  string            // "ltr" or "rtl"
	msgs map[string]string // every key, English where the language has none
	// static header values, shared by every response: never modified.
	contentLanguage []string
}

func loadCatalog(tag string) (map[string]string, error) {
	b, err := embeddedLocales.ReadFile("locales/" + tag + ".json")
	if err != nil {
		return nil, err
	}
	m := make(map[string]string)
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("errorpage: embedded catalog %s: %w", tag, err)
	}
	return m, nil
}

// rtlLanguages are the base languages written right to left.
var rtlLanguages = [...]string{"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ps", "sd", "ug", "ur", "yi"}

// buildLocales returns the catalogs of the built-in languages and of any
// other language of overrides, with the overrides applied, English first.
func buildLocales(overrides map[string]map[string]string) ([]*locale, error) {
	en, err := loadCatalog("en")
	if err != nil {
		return nil, err
	}
	// English's status names for every status net/http knows.
	for code := 400; code <= 599; code++ {
		key := "status." + strconv.Itoa(code)
		if _, ok := en[key]; !ok && http.StatusText(code) != "" {
			en[key] = http.StatusText(code)
		}
	}
	var locs []*locale
	index := make(map[string]int) // canonical tag → index in locs
	for _, tag := range builtinLanguages {
		msgs := maps.Clone(en)
		if tag != "en" {
			own, err := loadCatalog(tag)
			if err != nil {
				return nil, err
			}
			// Status names the language lacks fall back to its generic
			// "Client Error" and "Server Error", not to English.
			for code := 400; code <= 599; code++ {
				key := "status." + strconv.Itoa(code)
				if _, ok := own[key]; !ok {
					msgs[key] = own["status."+strconv.Itoa(code/100)+"xx"]
				}
			}
			maps.Copy(msgs, own)
		}
		index[canonical(tag)] = len(locs)
		locs = append(locs, &locale{tag: tag, msgs: msgs})
	}
	builtins := make([]language.Tag, len(builtinLanguages))
	for i, tag := range builtinLanguages {
		builtins[i] = language.Make(tag)
	}
	closest := language.NewMatcher(builtins)
	for _, tag := range slices.Sorted(maps.Keys(overrides)) {
		t, err := language.Parse(tag)
		if err != nil {
			return nil, fmt.Errorf("errorpage: Messages: language %q: %w", tag, err)
		}
		i, ok := index[t.String()]
		if !ok {
			// A new language or regional variant: it starts from the
			// built-in catalog that matches it with high confidence, if
			// any ("pt-BR" from "pt", "zh" from "zh-Hans"), else from
			// English.
			from := en
			if _, bi, conf := closest.Match(t); conf >= language.High {
				from = locs[bi].msgs
			}
			i = len(locs)
			index[t.String()] = i
			locs = append(locs, &locale{tag: t.String(), msgs: maps.Clone(from)})
		}
		for key, text := range overrides[tag] {
			orig, ok := en[key]
			if !ok {
				return nil, fmt.Errorf("errorpage: Messages[%q]: unknown key %q", tag, key)
			}
			if v, w := verbs(orig), verbs(text); !slices.Equal(v, w) {
				return nil, fmt.Errorf("errorpage: Messages[%q][%q] has format verbs %q, want %q", tag, key, w, v)
			}
			locs[i].msgs[key] = text
		}
	}
	for _, l := range locs {
		if err := checkDateLayout(l.msgs["format.datetime"]); err != nil {
			return nil, fmt.Errorf("errorpage: Messages[%q][\"format.datetime\"] %q: %w", l.tag, l.msgs["format.datetime"], err)
		}
		l.dir = "ltr"
		base, _ := language.Make(l.tag).Base()
		if slices.Contains(rtlLanguages[:], base.String()) {
			l.dir = "rtl"
		}
		l.contentLanguage = []string{l.tag}
		l.msgs = compact(l.msgs)
	}
	return locs, nil
}

// compact returns a copy of m whose keys and values are all substrings of
// one string. The catalogs live as long as their Pages; a few objects
// instead of one per string spare every garbage collection the marking
// of thousands of them.
func compact(m map[string]string) map[string]string {
	keys := slices.Sorted(maps.Keys(m))
	n := 0
	for _, k := range keys {
		n += len(k) + len(m[k])
	}
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(m[k])
	}
	all := b.String()
	out := make(map[string]string, len(m))
	off := 0
	for _, k := range keys {
		v := m[k]
		out[all[off:off+len(k)]] = all[off+len(k) : off+len(k)+len(v)]
		off += len(k) + len(v)
	}
	return out
}

// checkDateLayout checks a "format.datetime" message, a time.Format
// layout: the moments it writes go into pages as they are, so they must
// hold the day, the month, the year and the time of day, and no character
// that HTML, JSON or a header would read as markup or a break.
func checkDateLayout(layout string) error {
	t := time.Date(2031, 11, 28, 21, 47, 0, 0, time.UTC)
	s := t.Format(layout)
	if strings.ContainsAny(s, "<>&\"'`\\") || strings.IndexFunc(s, isControlOrBreak) >= 0 {
		return errors.New("writes a character that is not allowed (<, >, &, quotes, backslash, control characters)")
	}
	for _, part := range []string{"28", "11", "2031", "21", "47"} {
		if !strings.Contains(s, part) && !(part == "11" && strings.Contains(s, "Nov")) {
			return fmt.Errorf("does not write the day, the month (number or English name), the year, the hour and the minute: %q", s)
		}
	}
	return nil
}

// canonical returns tag in the canonical form of golang.org/x/text.
func canonical(tag string) string { return language.Make(tag).String() }

// verbs returns the fmt verbs in s, in order, "%%" excluded.
func verbs(s string) []string {
	var vs []string
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			continue
		}
		if s[i+1] == '%' {
			i++
			continue
		}
		vs = append(vs, s[i:i+2])
		i++
	}
	return vs
}

// msg returns the message of key, with args formatted into it.
func (l *locale) msg(key string, args ...any) string {
	s := l.msgs[key]
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

// retry returns the sentence saying when to retry, or, for a page that
// refreshes itself, that it will try again then; dated reports whether at
// holds a date (the moment is not today), which some languages word
// differently ("a las 15:04" but "el 07/05/2026, 15:04"). In a
// right-to-left language the time is isolated (U+2068, U+2069), so that it
// reads left to right.
func (l *locale) retry(at string, refresh, dated bool) string {
	if l.dir == "rtl" {
		at = "\u2068" + at + "\u2069"
	}
	key := "retry"
	if refresh {
		key = "refresh"
	}
	if dated {
		key += ".date"
	}
	return l.msg(key, at)
}

// statusText returns the localized name of status.
func (l *locale) statusText(status int) string {
	if s, ok := l.msgs["status."+strconv.Itoa(status)]; ok {
		return s
	}
	return l.msgs["status."+strconv.Itoa(status/100)+"xx"]
}
