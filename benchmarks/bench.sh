#!/usr/bin/env bash
# Runs the Go benchmarks of this module (handler_test.go, proxy_test.go) and
# prints benchstat tables that compare, side by side:
#
#   Handler:   bare vs gatehouse vs chi vs gorilla vs httpsnoop(-intercept)
#   Proxy:     plain (and plain-via) vs gatehouse, success and error paths
#   Transport: plain http.Transport vs gatehouse's Transport
#
# Not run by CI. Run it by hand on an otherwise idle machine:
#
#	benchmarks/bench.sh                       # COUNT=6 BENCHTIME=1s
#	COUNT=10 BENCHTIME=2s benchmarks/bench.sh
#	OUT=results.txt benchmarks/bench.sh       # keep the raw results there
#
# benchstat (golang.org/x/perf/cmd/benchstat) is installed with go install,
# into GOBIN (or GOPATH/bin), when it is not found. benchstat compares
# columns by a key of the benchmark's name; the script rewrites
# "BenchmarkHandler/chi" to "BenchmarkHandler/impl=chi" and
# "BenchmarkProxy/error/plain" to "BenchmarkProxy/path=error/impl=plain" so
# that each implementation is a column, the first one (bare, plain) the base.
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
benchstat=$(command -v benchstat || true)
if [ -z "$benchstat" ]; then
	if [ ! -x "$gobin/benchstat" ]; then
		echo "installing benchstat into $gobin" >&2
		go install golang.org/x/perf/cmd/benchstat@latest
	fi
	benchstat=$gobin/benchstat
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=${OUT:-$work/raw.txt}

echo "go test -run '^\$' -bench '$BENCH' -count=$COUNT -benchtime=$BENCHTIME -benchmem" >&2
go test -run '^$' -bench "$BENCH" -count="$COUNT" -benchtime="$BENCHTIME" -benchmem . | tee "$raw" >&2

sed -E \
	-e 's#^BenchmarkHandler/#BenchmarkHandler/impl=#' \
	-e 's#^BenchmarkTransport/#BenchmarkTransport/impl=#' \
	-e 's#^BenchmarkProxy/([^/]+)/#BenchmarkProxy/path=\1/impl=#' \
	"$raw" >"$work/keyed.txt"

for name in Handler Proxy Transport; do
	grep -q "^Benchmark$name/" "$work/keyed.txt" || continue
	echo
	echo "## $name"
	"$benchstat" -filter ".name:$name" -col /impl "$work/keyed.txt"
done
[ -z "${OUT:-}" ] || echo "raw results: $OUT" >&2
