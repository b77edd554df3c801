// Package browsertest renders Gatehouse's error pages in a real browser,
// Debian's chromium driven through the DevTools protocol by
// github.com/chromedp/chromedp, and checks what only a browser can tell: no
// horizontal scroll at phone and desktop widths, no console error, no request
// besides the page itself, and WCAG AA contrast of every piece of text, in
// light and dark mode and in a left-to-right and a right-to-left language.
//
// It is a nested module, so that users of the library never download a
// browser driver. It has no API: everything is in its tests.
//
// # Running
//
// The tests need chromium on PATH. Without it they skip, unless the
// environment variable CI is "true", in which case they fail.
//
//	go test -count=1 ./...
//
// Each page's screenshot is saved under out/ (git-ignored) for a person to
// look at. The README's screenshots are written only on request:
//
//	go test -count=1 -run TestScreenshots -args -screenshots ../../docs/screenshots
package browsertest
