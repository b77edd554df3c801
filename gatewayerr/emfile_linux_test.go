//go:build linux

package gatewayerr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClassifyOutOfFileDescriptors runs a real dial that fails with EMFILE:
// the test binary runs itself with its file descriptor limit lowered to the
// descriptors it already has open, and dials a loopback listener through an
// http.Transport.
func TestClassifyOutOfFileDescriptors(t *testing.T) {
	if os.Getenv("GATEWAYERR_EMFILE_CHILD") == "1" {
		emfileChild()
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestClassifyOutOfFileDescriptors$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GATEWAYERR_EMFILE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	const want = "kind=connection_limit_reached status=503 sent=false phase=dial emfile=true"
	if !strings.Contains(string(out), want) {
		t.Errorf("child printed:\n%s\nwant a line %q", out, want)
	}
}

// emfileChild is the child's side: it prints the classification of a dial
// that fails for want of a file descriptor.
func emfileChild() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		return
	}
	defer ln.Close()
	// Lower the limit a little above what is open, then take every
	// descriptor left, so that the dial's socket is the one refused.
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fmt.Println("reading /proc/self/fd:", err)
		return
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("getrlimit:", err)
		return
	}
	lim.Cur = uint64(len(fds) + 16)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		return
	}
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		defer f.Close()
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		fmt.Println("the dial succeeded: no EMFILE")
		return
	}
	e := Classify(err)
	fmt.Printf("kind=%s status=%d sent=%v phase=%s emfile=%v\n",
		e.Kind, e.StatusCode(), e.RequestSent(), e.Phase, errors.Is(err, syscall.EMFILE))
}
