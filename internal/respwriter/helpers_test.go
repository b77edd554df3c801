package respwriter

import (
	"bytes"
	"net/http"
	"strconv"
)

// fakeBase records what a Writer does to the writer it wraps.
type fakeBase struct {
	header http.Header
	calls  []string
	body   bytes.Buffer
}

func newFakeBase() fakeBase { return fakeBase{header: http.Header{}} }

func (f *fakeBase) Header() http.Header { return f.header }

func (f *fakeBase) Write(p []byte) (int, error) {
	f.calls = append(f.calls, "Write")
	return f.body.Write(p)
}

func (f *fakeBase) WriteHeader(code int) {
	f.calls = append(f.calls, "WriteHeader "+strconv.Itoa(code))
}
