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
	"sync"
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
	tag  string // as in builtinLanguages or Config.Messages
	dir  string // "ltr" or "rtl"
	keys *keyIndex
	// build makes the language's messages again, for a built-in
	// language that Config.Messages leaves as it is: New lets its texts
	// go once it has checked the pages (see Pages.check), and they are
	// made again when first needed. It is nil for a language whose texts
	// are kept.
	build func() map[string]string
	mu    sync.Mutex // held while the texts are made again
	texts atomic.Pointer[texts]
	// static header values, shared by every response: never modified.
	contentLanguage []string
}

// A keyIndex numbers the message keys of the languages of a Pages, which
// they share. The keys are substrings of one string.
type keyIndex struct{ index map[string]int }

// newKeyIndex returns the index of the keys of msgs.
func newKeyIndex(msgs []map[string]string) *keyIndex {
	set := make(map[string]bool)
	for _, m := range msgs {
		for k := range m {
			set[k] = true
		}
	}
	keys := slices.Sorted(maps.Keys(set))
	joined := strings.Join(keys, "")
	x := &keyIndex{index: make(map[string]int, len(keys))}
	off := 0
	for i, k := range keys {
		x.index[joined[off:off+len(k)]] = i
		off += len(k)
	}
	return x
}

// texts holds one language's messages in a form that the garbage collector
// does not have to scan: one string holding each distinct text once, and
// the bounds of each key's text in it. A Pages keeps its languages for as
// long as it lives, and every collection would otherwise mark every
// message of every language, thousands of strings.
type texts struct {
	text string
	// spans holds the bounds of key i's message in text at 2i and 2i+1;
	// noMessage at 2i for a key the language lacks.
	spans []uint32
	// table is Data.T, made when a template first needs it (see
	// locale.messages).
	table atomic.Pointer[map[string]string]
}

// noMessage marks, in spans, a key the language lacks.
const noMessage = ^uint32(0)

// newTexts returns the messages m, whose keys x indexes.
func newTexts(x *keyIndex, m map[string]string) *texts {
	var b strings.Builder
	at := make(map[string]uint32) // where each distinct text starts
	spans := make([]uint32, 2*len(x.index))
	for i := range len(x.index) {
		spans[2*i] = noMessage
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		i, ok := x.index[k]
		if !ok {
			continue
		}
		v := m[k]
		start, seen := at[v]
		if !seen {
			start = uint32(b.Len())
			at[v] = start
			b.WriteString(v)
		}
		spans[2*i], spans[2*i+1] = start, start+uint32(len(v))
	}
	return &texts{text: b.String(), spans: spans}
}

// current returns the language's texts, made again if New let them go.
func (l *locale) current() *texts {
	if t := l.texts.Load(); t != nil {
		return t
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.texts.Load(); t != nil {
		return t
	}
	// New made the same texts without error: build does not fail.
	t := newTexts(l.keys, l.build())
	l.texts.Store(t)
	return t
}

// letGo drops what New made of the language while it checked the pages:
// its texts when they can be made again, else their Data.T table, which
// is made again when a template first needs it.
func (l *locale) letGo() {
	if l.build != nil {
		l.texts.Store(nil)
	} else if t := l.texts.Load(); t != nil {
		t.table.Store(nil)
	}
}

// lookup returns the message of key, and whether the language has one.
func (l *locale) lookup(key string) (string, bool) {
	i, ok := l.keys.index[key]
	if !ok {
		return "", false
	}
	t := l.current()
	if t.spans[2*i] == noMessage {
		return "", false
	}
	return t.text[t.spans[2*i]:t.spans[2*i+1]], true
}

// text returns the message of key, or "" if there is none.
func (l *locale) text(key string) string {
	s, _ := l.lookup(key)
	return s
}

// messages returns every message of the language by key, for Data.T. The
// map is made on first use and kept with the texts: only the languages
// that templates render in hold one. Its strings are the texts' own.
func (l *locale) messages() map[string]string {
	t := l.current()
	if m := t.table.Load(); m != nil {
		return *m
	}
	m := make(map[string]string, len(l.keys.index))
	for k, i := range l.keys.index {
		if t.spans[2*i] != noMessage {
			m[k] = t.text[t.spans[2*i]:t.spans[2*i+1]]
		}
	}
	// Two requests may make it at once: the maps are equal, either is kept.
	t.table.Store(&m)
	return m
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

// englishMessages returns English's messages: its catalog, with net/http's
// name for every status it knows.
func englishMessages() (map[string]string, error) {
	en, err := loadCatalog("en")
	if err != nil {
		return nil, err
	}
	for code := 400; code <= 599; code++ {
		key := "status." + strconv.Itoa(code)
		if _, ok := en[key]; !ok && http.StatusText(code) != "" {
			en[key] = http.StatusText(code)
		}
	}
	return en, nil
}

// builtinMessages returns the messages of the built-in language tag: its
// catalog over en, English's messages (left as they are), the language
// having its generic "Client Error" or "Server Error" for the statuses it
// does not name.
func builtinMessages(en map[string]string, tag string) (map[string]string, error) {
	msgs := maps.Clone(en)
	if tag == "en" {
		return msgs, nil
	}
	own, err := loadCatalog(tag)
	if err != nil {
		return nil, err
	}
	for code := 400; code <= 599; code++ {
		key := "status." + strconv.Itoa(code)
		if _, ok := own[key]; !ok {
			msgs[key] = own["status."+strconv.Itoa(code/100)+"xx"]
		}
	}
	maps.Copy(msgs, own)
	return msgs, nil
}

// rtlLanguages are the base languages written right to left.
var rtlLanguages = [...]string{"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ps", "sd", "ug", "ur", "yi"}

// buildLocales returns the catalogs of the built-in languages and of any
// other language of overrides, with the overrides applied, English first.
func buildLocales(overrides map[string]map[string]string) ([]*locale, error) {
	var locs []*locale
	var all []map[string]string   // each locale's messages, by index in locs
	index := make(map[string]int) // canonical tag → index in locs
	en, err := englishMessages()
	if err != nil {
		return nil, err
	}
	for _, tag := range builtinLanguages {
		msgs, err := builtinMessages(en, tag)
		if err != nil {
			return nil, err
		}
		index[canonical(tag)] = len(locs)
		locs = append(locs, &locale{tag: tag, build: func() map[string]string {
			en, _ := englishMessages()
			m, _ := builtinMessages(en, tag)
			return m
		}})
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
			// English, with the overrides of "en" made so far.
			from := all[0]
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
		locs[i].build = nil // kept: Config.Messages changes it
	}
	keys := newKeyIndex(all)
	for i, l := range locs {
		if err := checkDateLayout(all[i]["format.datetime"]); err != nil {
			return nil, fmt.Errorf("errorpage: Messages[%q][\"format.datetime\"] %q: %w", l.tag, all[i]["format.datetime"], err)
		}
		l.keys = keys
		l.texts.Store(newTexts(keys, all[i]))
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
