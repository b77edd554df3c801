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
	"sync/atomic"
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

// locale is one language's complete catalog: every key, English where the
// language has none.
type locale struct {
	tag string // as in builtinLanguages or Config.Messages
	dir string // "ltr" or "rtl"
	cat *catalog
	// spans holds the bounds of key i's message in cat.text at 2i and
	// 2i+1; noMessage at 2i for a key the language lacks.
	spans []uint32
	// table is Data.T, made when a template first needs it (see
	// locale.messages).
	table atomic.Pointer[map[string]string]
	// static header values, shared by every response: never modified.
	contentLanguage []string
}

// A catalog holds the messages of every language of a Pages in a form that
// the garbage collector does not have to scan: the texts are substrings of
// one string, each distinct text once, found through an index of the keys
// that the languages share. A Pages keeps its catalogs for as long as it
// lives, and every collection would otherwise mark every message of every
// language, thousands of strings.
type catalog struct {
	keys map[string]int // key → its index in every locale's spans
	text string         // every distinct message text
}

// noMessage marks, in a locale's spans, a key the language lacks.
const noMessage = ^uint32(0)

// newCatalog returns the catalog of the languages whose messages are msgs,
// and each language's spans in it.
func newCatalog(msgs []map[string]string) (*catalog, [][]uint32) {
	keySet := make(map[string]bool)
	for _, m := range msgs {
		for k := range m {
			keySet[k] = true
		}
	}
	keys := slices.Sorted(maps.Keys(keySet))
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
	}
	joined := b.String()
	c := &catalog{keys: make(map[string]int, len(keys))}
	off := 0
	for i, k := range keys {
		c.keys[joined[off:off+len(k)]] = i
		off += len(k)
	}
	// Each distinct text once, at the offset where it was first written.
	b.Reset()
	at := make(map[string]uint32)
	spans := make([][]uint32, len(msgs))
	for li, m := range msgs {
		sp := make([]uint32, 2*len(keys))
		for i, k := range keys {
			v, ok := m[k]
			if !ok {
				sp[2*i] = noMessage
				continue
			}
			start, seen := at[v]
			if !seen {
				start = uint32(b.Len())
				at[v] = start
				b.WriteString(v)
			}
			sp[2*i], sp[2*i+1] = start, start+uint32(len(v))
		}
		spans[li] = sp
	}
	c.text = b.String()
	return c, spans
}

// lookup returns the message of key, and whether the language has one.
func (l *locale) lookup(key string) (string, bool) {
	i, ok := l.cat.keys[key]
	if !ok || l.spans[2*i] == noMessage {
		return "", false
	}
	return l.cat.text[l.spans[2*i]:l.spans[2*i+1]], true
}

// text returns the message of key, or "" if there is none.
func (l *locale) text(key string) string {
	s, _ := l.lookup(key)
	return s
}

// messages returns every message of the language by key, for Data.T. The
// map is made on first use and kept: only the languages that templates
// render in hold one. Its strings are the catalog's own.
func (l *locale) messages() map[string]string {
	if t := l.table.Load(); t != nil {
		return *t
	}
	t := make(map[string]string, len(l.cat.keys))
	for k := range l.cat.keys {
		if v, ok := l.lookup(k); ok {
			t[k] = v
		}
	}
	// Two requests may make it at once: the maps are equal, either is kept.
	l.table.Store(&t)
	return t
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
	var all []map[string]string   // each locale's messages, by index in locs
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
		locs = append(locs, &locale{tag: tag})
		all = append(all, msgs)
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
				from = all[bi]
			}
			i = len(locs)
			index[t.String()] = i
			locs = append(locs, &locale{tag: t.String()})
			all = append(all, maps.Clone(from))
		}
		for key, text := range overrides[tag] {
			orig, ok := en[key]
			if !ok {
				return nil, fmt.Errorf("errorpage: Messages[%q]: unknown key %q", tag, key)
			}
			if v, w := verbs(orig), verbs(text); !slices.Equal(v, w) {
				return nil, fmt.Errorf("errorpage: Messages[%q][%q] has format verbs %q, want %q", tag, key, w, v)
			}
			all[i][key] = text
		}
	}
	cat, spans := newCatalog(all)
	for i, l := range locs {
		if err := checkDateLayout(all[i]["format.datetime"]); err != nil {
			return nil, fmt.Errorf("errorpage: Messages[%q][\"format.datetime\"] %q: %w", l.tag, all[i]["format.datetime"], err)
		}
		l.cat, l.spans = cat, spans[i]
		l.dir = "ltr"
		base, _ := language.Make(l.tag).Base()
		if slices.Contains(rtlLanguages[:], base.String()) {
			l.dir = "rtl"
		}
		l.contentLanguage = []string{l.tag}
	}
	return locs, nil
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
	s := l.text(key)
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
	if s, ok := l.lookup("status." + strconv.Itoa(status)); ok {
		return s
	}
	return l.text("status." + strconv.Itoa(status/100) + "xx")
}
