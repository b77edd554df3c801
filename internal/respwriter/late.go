package respwriter

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
)

// The methods of a view. Until Finish each is the Writer's own; afterwards
// it is its late twin, which holds w.mu while the request is live and does
// nothing once it is over (see Writer.Finish). The split keeps the check
// that the success path pays a single atomic load in an inlined function.

func (w *Writer) viewHeader() http.Header {
	if w.done.Load() {
		return w.lateHeader()
	}
	return w.rw.Header()
}

func (w *Writer) viewWrite(p []byte) (int, error) {
	if w.done.Load() {
		return w.lateWrite(p)
	}
	return w.Write(p)
}

func (w *Writer) viewWriteString(s string) (int, error) {
	if w.done.Load() {
		return w.lateWriteString(s)
	}
	return w.WriteString(s)
}

func (w *Writer) viewWriteHeader(code int) {
	if w.done.Load() {
		w.lateWriteHeader(code)
		return
	}
	w.WriteHeader(code)
}

func (w *Writer) viewUnwrap() http.ResponseWriter {
	if w.done.Load() {
		return w.lateUnwrap()
	}
	return w.rw
}

func (w *Writer) viewFlush() error {
	if w.done.Load() {
		return w.lateFlush()
	}
	return w.flush()
}

func (w *Writer) viewHijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.done.Load() {
		return w.lateHijack()
	}
	return w.hijack()
}

func (w *Writer) viewReadFrom(src io.Reader) (int64, error) {
	if w.done.Load() {
		return w.lateReadFrom(src)
	}
	return w.readFrom(src)
}

func (w *Writer) viewPush(target string, opts *http.PushOptions) error {
	if w.done.Load() {
		return w.latePush(target, opts)
	}
	return w.push(target, opts)
}

func (w *Writer) viewCloseNotify() <-chan bool {
	if w.done.Load() {
		return w.lateCloseNotify()
	}
	return w.closeNotify()
}

// ErrLate is what a view's methods report when called after the handler
// it was handed to returned, on a response that had already been written
// (see Writer.Finish).
var ErrLate = errors.New("http: ResponseWriter used after its handler returned, on a response already written")

// lock locks w.mu and returns nil while the request is live and its
// response unwritten when the handler returned; otherwise it leaves w.mu
// unlocked and returns the context's error, or ErrLate.
func (w *Writer) lock() error {
	w.mu.Lock()
	if err := w.ctx.Err(); err != nil {
		w.mu.Unlock()
		return err
	}
	if !w.open {
		w.mu.Unlock()
		return ErrLate
	}
	return nil
}

func (w *Writer) lateHeader() http.Header {
	if w.lock() != nil {
		return http.Header{} // a map nobody reads, as after a hijack
	}
	defer w.mu.Unlock()
	return w.rw.Header()
}

func (w *Writer) lateWrite(p []byte) (int, error) {
	if err := w.lock(); err != nil {
		return 0, err
	}
	defer w.mu.Unlock()
	return w.Write(p)
}

func (w *Writer) lateWriteString(s string) (int, error) {
	if err := w.lock(); err != nil {
		return 0, err
	}
	defer w.mu.Unlock()
	return w.WriteString(s)
}

func (w *Writer) lateWriteHeader(code int) {
	if w.lock() != nil {
		return
	}
	defer w.mu.Unlock()
	w.WriteHeader(code)
}

func (w *Writer) lateUnwrap() http.ResponseWriter {
	if err := w.lock(); err != nil {
		return goneWriter{err}
	}
	defer w.mu.Unlock()
	return w.rw
}

func (w *Writer) lateFlush() error {
	if err := w.lock(); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return w.flush()
}

func (w *Writer) lateHijack() (net.Conn, *bufio.ReadWriter, error) {
	if err := w.lock(); err != nil {
		return nil, nil, err
	}
	defer w.mu.Unlock()
	return w.hijack()
}

func (w *Writer) lateReadFrom(src io.Reader) (int64, error) {
	if err := w.lock(); err != nil {
		return 0, err
	}
	defer w.mu.Unlock()
	return w.readFrom(src)
}

func (w *Writer) latePush(target string, opts *http.PushOptions) error {
	if err := w.lock(); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return w.push(target, opts)
}

func (w *Writer) lateCloseNotify() <-chan bool {
	if w.lock() != nil {
		c := make(chan bool, 1)
		c <- true // the request is over, as net/http would tell
		return c
	}
	defer w.mu.Unlock()
	return w.closeNotify()
}

// goneWriter is what a view unwraps to once its request is over: a
// ResponseWriter that writes nothing and has no optional interface, so that
// http.ResponseController's methods report http.ErrNotSupported.
type goneWriter struct{ err error }

func (g goneWriter) Header() http.Header         { return http.Header{} }
func (g goneWriter) Write(p []byte) (int, error) { return 0, g.err }
func (g goneWriter) WriteHeader(int)             {}
