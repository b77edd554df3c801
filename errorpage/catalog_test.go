package errorpage

import (
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestCatalogsComplete checks that every embedded catalog has exactly
// English's keys, with the same format verbs, and no empty message.
func TestCatalogsComplete(t *testing.T) {
	en, err := loadCatalog("en")
	if err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(en))
	if diff := cmp.Diff(keys, MessageKeys()); diff != "" {
		t.Errorf("MessageKeys mismatch (-want +got):\n%s", diff)
	}
	for _, tag := range Languages() {
		t.Run(tag, func(t *testing.T) {
			c, err := loadCatalog(tag)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(keys, slices.Sorted(maps.Keys(c))); diff != "" {
				t.Errorf("keys mismatch (-want +got):\n%s", diff)
			}
			for k, v := range c {
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s is empty", k)
				}
				if !cmp.Equal(verbs(en[k]), verbs(v)) {
					t.Errorf("%s has verbs %q, English %q", k, verbs(v), verbs(en[k]))
				}
			}
		})
	}
}

func TestMessagesOverrides(t *testing.T) {
	p := newPages(t, Config{RefreshLimit: -1, Messages: map[string]map[string]string{
		"en":    {"title.refused": "Our backend is napping"},
		"de":    {"retry": "Nochmal ab %s."},
		"sv-SE": {"title.refused": "Tjänsten tar inte emot anslutningar"},
		"pt-BR": {"title.refused": "O serviço recusou a conexão"},
		"zh":    {"title.refused": "服务暂时拒绝连接"},
	}})
	for _, tt := range []struct{ lang, want string }{
		{"en", "<h1>Our backend is napping</h1>"},
		{"sv", "<h1>Tjänsten tar inte emot anslutningar</h1>"},
		{"sv", "Our gateway tried to connect to the service"}, // English fallback for the rest
		{"de", "Nochmal ab 05:06:37 UTC."},
		{"pt-BR", "<h1>O serviço recusou a conexão</h1>"},
		{"pt-BR", "Nosso gateway tentou se conectar ao serviço"}, // the rest from pt
		{"pt-PT", "<h1>O serviço não está aceitando conexões</h1>"},
		{"zh", "<h1>服务暂时拒绝连接</h1>"},
		{"zh-CN", "我们的网关尝试连接本网站背后的服务"}, // the rest from zh-Hans, not English
	} {
		rec := httptest.NewRecorder()
		p.ServeError(rec, request("GET", "/", "Accept", "text/html", "Accept-Language", tt.lang), &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, RetryAfter: 30e9})
		if !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: page lacks %q", tt.lang, tt.want)
		}
	}

	for name, m := range map[string]map[string]map[string]string{
		"unknown key":  {"en": {"title.nope": "x"}},
		"lost verb":    {"fr": {"retry": "Réessayez plus tard."}},
		"extra verb":   {"fr": {"title.refused": "%d"}},
		"bad language": {"!!": {"retry": "%s"}},
		"date markup":  {"en": {"format.datetime": "<b>2 Jan 2006, 15:04</b>"}},
		"date no time": {"de": {"format.datetime": "02.01.2006"}},
		"date no year": {"fr": {"format.datetime": "02/01 15:04"}},
	} {
		if _, err := New(Config{Messages: m}); err == nil {
			t.Errorf("%s: New accepted %v", name, m)
		}
	}
	if _, err := New(Config{Messages: map[string]map[string]string{"en": {"format.datetime": "Mon 2 January 2006 at 15:04 UTC"}}}); err != nil {
		t.Errorf("New rejected a good date layout: %v", err)
	}
	if _, err := New(Config{ProblemTypeBase: "ftp://x"}); err == nil {
		t.Error("New accepted an ftp ProblemTypeBase")
	}
}

func TestRTL(t *testing.T) {
	p := newPages(t, Config{Messages: map[string]map[string]string{"he": {"title.refused": "השירות אינו מקבל חיבורים"}}})
	for _, tt := range []struct{ lang, dir string }{{"ar", "rtl"}, {"he", "rtl"}, {"en", "ltr"}, {"hi", "ltr"}} {
		rec := httptest.NewRecorder()
		p.ServeError(rec, request("GET", "/", "Accept", "text/html", "Accept-Language", tt.lang), gatewayerr.ConnectionRefused)
		body := rec.Body.String()
		if !strings.Contains(body, " dir="+tt.dir+">") {
			t.Errorf("%s: page is not dir=%s", tt.lang, tt.dir)
		}
		// The request ID and the time read left to right in every page.
		isolated := strings.Contains(body, `<code dir="ltr">`) && strings.Contains(body, `<time dir="ltr" `)
		if tt.dir == "rtl" && !isolated {
			t.Errorf("%s: the request ID and the time are not marked dir=ltr:\n%s", tt.lang, body)
		}
	}
}

// TestCatalog checks that a language's texts give back its messages,
// empty and missing ones included, each distinct text held once; that
// Data.T holds the same; and that the texts of a built-in language that
// Config.Messages leaves alone are made again, the same, once let go,
// while those of a language it changes are kept.
func TestCatalog(t *testing.T) {
	msgs := []map[string]string{
		{},
		{"a": "", "": "b", "status.502": "Bad Gateway", "ä": "ü"},
		{"a": "Bad Gateway", "status.502": "Bad Gateway", "z": "b"},
	}
	keys := newKeyIndex(msgs)
	for i, m := range msgs {
		l := &locale{tag: strconv.Itoa(i), keys: keys}
		tx := newTexts(keys, m)
		l.texts.Store(tx)
		for _, k := range []string{"a", "", "status.502", "ä", "z", "missing"} {
			want, wantOK := m[k]
			if got, ok := l.lookup(k); got != want || ok != wantOK {
				t.Errorf("language %d: lookup(%q) = %q, %v; want %q, %v", i, k, got, ok, want, wantOK)
			}
		}
		if got := l.messages(); !maps.Equal(got, m) {
			t.Errorf("language %d: messages() = %q, want %q", i, got, m)
		}
		distinct := make(map[string]bool)
		n := 0
		for _, v := range m {
			if !distinct[v] {
				distinct[v] = true
				n += len(v)
			}
		}
		if len(tx.text) != n {
			t.Errorf("language %d: text %q: %d bytes, want %d (each distinct text once)", i, tx.text, len(tx.text), n)
		}
	}

	locs, err := buildLocales(map[string]map[string]string{"pt-BR": {"title.upstream": "Ops"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locs {
		before := l.messages()
		l.letGo()
		if kept := l.texts.Load() != nil; kept != (l.build == nil) {
			t.Errorf("%s: texts kept after letGo = %v, want %v", l.tag, kept, l.build == nil)
		}
		if again := l.messages(); !maps.Equal(again, before) {
			t.Errorf("%s: texts made again differ:\n%v\nwant\n%v", l.tag, again, before)
		}
		if got := l.text("status.502"); got == "" {
			t.Errorf("%s: status.502 %q", l.tag, got)
		}
		table := l.messages()
		for _, k := range MessageKeys() {
			if _, ok := table[k]; !ok {
				t.Errorf("%s: Data.T lacks %q", l.tag, k)
			}
		}
		if wantKept := l.tag == "pt-BR"; (l.build == nil) != wantKept {
			t.Errorf("%s: texts kept = %v, want %v", l.tag, l.build == nil, wantKept)
		}
		if l.tag == "pt-BR" && l.text("title.upstream") != "Ops" {
			t.Errorf("pt-BR: title.upstream %q, want the override", l.text("title.upstream"))
		}
	}
}

// TestNewHoldsNoMessageTables checks that a Pages that has served nothing
// holds no Data.T table, in any language: New makes them while it checks
// the pages, and must let them go with the built-in texts, for the
// languages Config.Messages changes or adds too, whose texts it keeps. A
// table is a map of every message, which every collection marks.
func TestNewHoldsNoMessageTables(t *testing.T) {
	p := newPages(t, Config{Messages: map[string]map[string]string{
		"de":    {"ref.id": "Referenz"},
		"pt-BR": {"title.upstream": "Ops"},
	}})
	kept := 0
	for _, l := range p.locales {
		tx := l.texts.Load()
		if tx == nil {
			continue
		}
		kept++
		if tx.table.Load() != nil {
			t.Errorf("%s: Data.T table held after New", l.tag)
		}
	}
	if kept != 2 {
		t.Errorf("%d languages keep their texts, want 2 (de, pt-BR)", kept)
	}
	// Made again when a page needs it, with the override.
	rec := httptest.NewRecorder()
	p.ServeStatus(rec, request("GET", "/", "Accept", "text/html", "Accept-Language", "de"), 502)
	if !strings.Contains(rec.Body.String(), "Referenz") {
		t.Errorf("de page lacks the overridden ref.id:\n%s", rec.Body.String())
	}
}
