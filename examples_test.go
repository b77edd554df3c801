package gatehouse_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestExamples runs the tests of the examples module (examples/go.mod),
// the demo's build-and-run test included, so that the README's test
// command, go test ./... from the root, covers them: the examples are a
// module of their own (the demo serves Prometheus metrics, which the
// library's go.mod must not require), and a ./... pattern never crosses
// into a nested module, not even in workspace mode.
//
// The child go test inherits the environment: GOFLAGS (.ci/run's -race
// -count=1) and GOWORK (the root's go.work, or off: the examples' replace
// directives then join the library). Flags given to the parent on its
// command line, such as -race, do not reach it; -short does.
func TestExamples(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to test the examples with: %v", err)
	}
	// The go command caches this test's result by the files it reads:
	// stat every file of the repository, whose changes may change the
	// child's result (the library, contrib/prometheus, the examples).
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx := t.Context()
	timeout := 9 * time.Minute
	if deadline, ok := t.Deadline(); ok {
		timeout = time.Until(deadline) - 30*time.Second
		if timeout <= 0 {
			t.Skip("not enough time left to test the examples")
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-10*time.Second))
		defer cancel()
	}
	args := []string{"test", "-timeout", timeout.Round(time.Second).String()}
	if testing.Short() {
		args = append(args, "-short")
	}
	if testing.Verbose() {
		args = append(args, "-v")
	}
	cmd := exec.CommandContext(ctx, goTool, append(args, "./...")...)
	cmd.Dir = "examples"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test ./... in examples: %v\n%s", err, out)
	}
	t.Logf("go test ./... in examples:\n%s", out)
}
