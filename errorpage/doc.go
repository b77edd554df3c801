// Package errorpage renders calm, precise error pages for a gateway's
// visitors: HTML, RFC 9457 problem documents, JSON or plain text,
// negotiated from the request, localized, and branded.
//
// [New] builds [Pages] from a [Config] whose zero value gives the embedded
// defaults; [Default] returns those, and a nil *Pages serves them too.
// [Pages.ServeError] serves the page for a failure, classified with
// gatewayerr.Classify, and [Pages.ServeStatus] the page for a status:
//
//	pages, err := errorpage.New(errorpage.Config{Brand: errorpage.Brand{Name: "Acme"}})
//	...
//	proxy.ErrorHandler = pages.ServeError
//
// # What a visitor gets
//
// Every page says the status and its name, what happened in plain words
// chosen from the failure's kind (the upstream refused the connection,
// timed out, is unavailable, sent a broken answer, the gateway itself
// failed, the service is under maintenance, ...), what the visitor can do
// (reload, wait, the Brand's status page, support and home links), when to
// retry (from Retry-After), and a reference to quote to support: the
// request ID from X-Request-ID (or a generated one) and the time in UTC.
//
// # Request IDs
//
// The ID a page quotes is set on its response, in the header field named
// by Config.RequestIDHeader ("X-Request-ID" by default): the ID that field
// of the response holds already when valid, else the one Config.RequestID
// returns for the request (say, from its context) when valid, else the
// request's own in that field when valid ([ValidRequestID] accepts 1 to
// 128 ASCII letters, digits and "-._:/=;": UUIDs, W3C trace IDs, chi's
// "host/Ab3dE5fG7h-000001"), else a random one. A middleware that logs a failure calls
// [Pages.SetRequestID] before serving the page, and logs the ID it returns:
// the one the page quotes.
//
// What the gateway found and what the upstream said are told apart: an
// upstream's own 503 (ReceivedStatus 503) says the service reports itself
// unavailable, where a destination_unavailable without a response (an open
// circuit) says the gateway is giving it time to recover; an upstream's own
// 504 or 502 says that something the service depends on timed out or
// failed, where the gateway's own timeout says it waited in vain.
//
// Pages for server errors carry a "where it failed" strip: the visitor's
// browser, the gateway, any proxies that the upstream's own Proxy-Status
// names, and the service, with the failed node marked and each node's state
// in words ("Working", "Error", "Not reached"), not only in colour. A
// failure the gateway decided itself (proxy_internal_error, a panic served
// as 500, proxy_loop_detected, proxy_configuration_error and the other
// kinds of its own configuration) marks the gateway, says so in its copy,
// and the service is "Not reached". Planned maintenance ([ErrMaintenance],
// or a 503 served by status) is not shown as an error: the service is
// "Under maintenance". On a narrow screen the strip is a compact list, one
// short row per node.
//
// Each kind has the remedies that apply to it: reloading in a minute or two
// when a second try may work; the time to come back when the retry time is
// known (never beside a vaguer one); nothing to change on the visitor's
// side, only waiting, for failures only the site's team can fix
// (certificates, the gateway's own); other sites, the visitor's
// connection, proxy or VPN only for failures on the visitor's side (4xx);
// and the Brand's status page and support links. With debug details, the
// operator gets what to check for that kind (Debug.Hint).
//
// A page whose retry time is known and near ([Config.RefreshLimit], 5
// minutes by default) refreshes itself, for GET and HEAD, with <meta
// http-equiv="refresh"> and no script, and says when it will. The retry
// moment is told in UTC, with its date in the page's language when it is
// not today.
//
// The HTML is self-contained (inline CSS, the logo as a data: URI, no
// script, no external request, no animation), responsive, follows
// prefers-color-scheme, meets WCAG AA contrast (New checks the
// Brand's colours) and stays well under 12 KB. It is small enough that the
// whole response for an English 502, 503 or 504, headers included, fits in
// net/http's 4 KB response buffer with room for a Proxy-Status and a Via
// header, so that it leaves in a single write.
//
// # Formats and languages
//
// [Negotiate] chooses the [Format] from Accept, with q-values and
// wildcards; with no preference it serves HTML to browsers, problem
// documents to API-looking requests and text to command-line clients.
// Problem documents have type "about:blank" (or [Config.ProblemTypeBase]
// with the kind's token as a path segment of its own, such as
// "https://example.com/problems/connection_refused" for a base of
// "https://example.com/problems" or "https://example.com/problems/"), title, status, detail and instance, and
// the extension members kind, received_status, request_id, time and
// retry_after.
//
// The language is matched from Accept-Language with q-values and
// base-language fallback ("pt-BR" is served in Portuguese), among the
// fifteen embedded languages (see [Languages]): English, German, French,
// Spanish, Italian, Portuguese, Dutch, Polish, Ukrainian, Turkish,
// Japanese, Simplified Chinese, Korean, Arabic (right to left) and Hindi.
// [Config.Messages] overrides any message ([MessageKeys]) in any language,
// or adds a language; English fills any gap.
//
// # Templates
//
// Pages are html/template (HTML) and text/template (text) templates,
// embedded, and executed with a [Data]. New parses and checks every one;
// so that a Pages that serves nothing holds no parsed template, it then
// lets them go, and parses a format's templates again, from the same
// sources, when it first serves a page in that format. An operator
// overrides them through [Config.Templates], an fs.FS, whose files New
// reads once: for status 503 the page is that of the first of "503.html",
// "5xx.html" and "default.html" that exists.
//
// The operator's "default.html" is parsed over a copy of the embedded
// templates; a "default.html" that only holds {{define}}s replaces those
// blocks of the embedded page ("style", "header", "message", "strip",
// "actions", "reference", "debug", "footer") on every page and keeps the
// rest. Each status file ("503.html", "5xx.html") is then parsed on a
// Clone of that base of its own, so that its {{define}}s change only the
// pages it serves: a "503.html" holding only
//
//	{{define "message"}}<h1>Back at six</h1>{{end}}
//
// gives the 503 page that message in the base page's layout, and leaves the
// 502 and 504 pages as they were. A status file with content outside its
// {{define}}s is the whole page for its statuses instead. The blocks of a
// "5xx.html" do not reach the statuses that have a file of their own.
// Other files, such as a "blocks.html" of shared {{define}}s, are parsed
// into the base with "default.html".
//
// Text pages work alike with ".txt", on the embedded text page. ".json"
// templates replace the application/json body (they get a json function to
// encode values); there is no embedded JSON template, so a ".json" file
// that holds only {{define}}s needs a "default.json" whose blocks it fills.
//
// The embedded page is written one rule or element a line and served as
// one line; the rules of its "style" block for the header and the debug
// details are included only in pages that have a Brand name or logo, or
// debug details: a "header" block that shows a header without them brings
// its own rules. Every page is executed in New against sample data (every
// kind, with and without a received status; samples in every language,
// with and without debug details), so that a broken one, or one that
// renders nothing or invalid JSON, fails there with an error naming its
// file. Should a template still fail while serving, for data no sample
// foresaw (a value that breaks a hand-written JSON string, say), that
// response falls back to the built-in JSON document, or to a plain status
// line in the other formats.
//
// Rendered pages are cached per status, kind, language and format, with
// the request ID and times filled in per request; New verifies, for every
// page and so for each status file's own templates, that the cache gives
// byte for byte what the template would. Before a page is first cached,
// it is rendered for two requests unlike in host, path, request ID and
// time, and compared with the cached page filled in for each: a page that
// shows the host or path in any way (a field, {{printf "%v" .}}, {{.}},
// {{with .Host}}) is rendered for every request instead, so that no visitor
// sees another's. Serving a cached HTML page takes about a microsecond and
// a handful of allocations.
//
// # Blocks
//
// The blocks that a file of {{define}}s only can replace are, for each format:
//
//   - html: "style", "header", "message", "strip", "actions", "reference",
//     "debug" and "footer";
//   - txt: "strip", "actions", "debug" and "footer" (the status line, title,
//     detail and reference are the page itself);
//   - json: none embedded; the blocks of the operator's "default.json".
//
// [New] rejects a "default.ext" or a status file of {{define}}s only that
// defines a block the page it overrides does not have (a "message" in a
// ".txt" file, a misspelt "mesage"), unless a block of the same file uses it,
// with an error listing the blocks there are: such a block would never be
// shown. Other files, such as "blocks.html", may define blocks of any name
// for the others to use.
//
// # Debug details
//
// With [Config.Debug] (nil: never), chosen requests see the kind, the
// phase, the upstream, the cause, the attempts and the Proxy-Status chain,
// in every format. Without it nothing internal appears in any format.
//
// # Response hygiene
//
// The page sets Content-Type with a charset, Content-Length,
// Content-Language, Cache-Control: no-store, X-Content-Type-Options:
// nosniff and, on HTML, a Content-Security-Policy that forbids scripts and
// external loads; it adds Accept and Accept-Language to the Vary field
// already set, keeping its tokens ("Vary: Accept, Accept-Language" when
// there is none); it sets Retry-After when the error knows it and its
// request ID (see above), and keeps every other header already set. HEAD
// gets no body. Everything reflected is escaped for its format, and no header value carries CR or LF from input.
//
// # Galleries and tests
//
// [Pages.Render] renders any variant (status, error, format, language,
// debug) described by a [Sample] without a request.
package errorpage
