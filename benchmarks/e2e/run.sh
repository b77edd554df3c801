#!/usr/bin/env bash
# End-to-end throughput of Gatehouse's reverse proxy on loopback, measured
# with wrk beside a plain httputil.ReverseProxy, nginx and Caddy, on the
# success path (a small 200 page from a Go upstream) and on the error path
# (a refused upstream: the plain proxy's bare 502, Gatehouse's branded page,
# and nginx's and Caddy's custom 502 page).
#
# Not run by CI: it installs packages and takes a few minutes. Run it by
# hand on an otherwise idle machine:
#
#	benchmarks/e2e/run.sh            # DURATION=10s CONNECTIONS=64 THREADS=2
#	DURATION=30s benchmarks/e2e/run.sh
#
# It installs wrk, nginx and Caddy with apt-get when they are missing (all
# three are in Debian 12's main archive); a server whose package cannot be
# installed is skipped. Everything listens on 127.0.0.1 only. Client, proxies
# and upstream share the machine's cores, so the figures compare the proxies
# with each other on this machine; they are not absolute capacities.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
BASE_PORT=${BASE_PORT:-18080}

UPSTREAM=127.0.0.1:$BASE_PORT
DEAD=127.0.0.1:$((BASE_PORT + 1)) # nothing listens there

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

install() {
	local missing=()
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "installing ${missing[*]} with apt-get" >&2
	$sudo apt-get update -qq >/dev/null || true
	for pkg in "${missing[@]}"; do
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null ||
			echo "apt-get could not install $pkg; skipping it" >&2
	done
}

install wrk nginx caddy
command -v wrk >/dev/null || { echo "wrk is required" >&2; exit 1; }

if (exec 3<>"/dev/tcp/${DEAD%:*}/${DEAD#*:}") 2>/dev/null; then
	echo "something listens on $DEAD; set BASE_PORT" >&2
	exit 1
fi

# The custom error page served by nginx and Caddy, close in size to
# Gatehouse's default page.
mkdir -p "$work/www"
cat >"$work/www/502.html" <<'EOF'
<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>502 Bad Gateway</title>
<style>body{font-family:system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1d2330}
main{max-width:36rem;padding:2rem}h1{font-size:1.6rem}p{line-height:1.5}</style></head>
<body><main><h1>The service is not answering right now.</h1>
<p>We could not reach the application behind this site. Please try again in a moment.</p>
<p><small>Error 502</small></p></main></body></html>
EOF
# nginx's workers run as an unprivileged user.
chmod -R a+rX "$work"

go build -o "$work/e2eserver" ./e2e/e2eserver

start() { # name, command...
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
}

declare -A url
names=()
add() { # name, port
	url[$1]="http://127.0.0.1:$2/"
	names+=("$1")
}

start upstream "$work/e2eserver" -mode upstream -listen "$UPSTREAM"
start plain-ok "$work/e2eserver" -mode plain -listen "127.0.0.1:$((BASE_PORT + 10))" -target "http://$UPSTREAM"
start plain-502 "$work/e2eserver" -mode plain -listen "127.0.0.1:$((BASE_PORT + 11))" -target "http://$DEAD"
start gatehouse-ok "$work/e2eserver" -mode gatehouse -listen "127.0.0.1:$((BASE_PORT + 12))" -target "http://$UPSTREAM"
start gatehouse-502 "$work/e2eserver" -mode gatehouse -listen "127.0.0.1:$((BASE_PORT + 13))" -target "http://$DEAD"
# The floor for any branded page: a plain proxy writing a constant copy of
# Gatehouse's page, headers and all, with nothing computed per request.
start plain-page-502 "$work/e2eserver" -mode plain-page -listen "127.0.0.1:$((BASE_PORT + 16))" -target "http://$DEAD"
# The same error path with each failure logged, to a file: the plain proxy
# as httputil.ReverseProxy does by default, Gatehouse with its slog record.
start plain-log-502 "$work/e2eserver" -mode plain -log -listen "127.0.0.1:$((BASE_PORT + 14))" -target "http://$DEAD"
start gatehouse-log-502 "$work/e2eserver" -mode gatehouse -log -listen "127.0.0.1:$((BASE_PORT + 15))" -target "http://$DEAD"
add plain-ok $((BASE_PORT + 10))
add gatehouse-ok $((BASE_PORT + 12))
add plain-502 $((BASE_PORT + 11))
add plain-page-502 $((BASE_PORT + 16))
add gatehouse-502 $((BASE_PORT + 13))
add plain-log-502 $((BASE_PORT + 14))
add gatehouse-log-502 $((BASE_PORT + 15))

if command -v nginx >/dev/null; then
	mkdir -p "$work/nginx/logs"
	cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log crit;
events { worker_connections 4096; }
http {
	access_log off; # the Go proxies and Caddy log nothing either
	# Keep-alive to the upstream, as the Go proxies do; max_fails=0 so that
	# the dead upstream is tried on every request, as the Go proxies do.
	upstream ok { server $UPSTREAM max_fails=0; keepalive 256; }
	upstream dead { server $DEAD max_fails=0; }
	server {
		listen 127.0.0.1:$((BASE_PORT + 20));
		location / { proxy_pass http://ok; proxy_http_version 1.1; proxy_set_header Connection ""; }
	}
	server {
		listen 127.0.0.1:$((BASE_PORT + 21));
		error_page 502 /502.html;
		location = /502.html { root $work/www; internal; }
		location / { proxy_pass http://dead; proxy_http_version 1.1; proxy_set_header Connection ""; }
	}
}
EOF
	start nginx nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
	add nginx-ok $((BASE_PORT + 20))
	add nginx-502 $((BASE_PORT + 21))
else
	echo "nginx not available: skipped" >&2
fi

if command -v caddy >/dev/null; then
	cat >"$work/Caddyfile" <<EOF
{
	admin off
	auto_https off
	log default {
		output discard
	}
}
http://127.0.0.1:$((BASE_PORT + 30)) {
	reverse_proxy $UPSTREAM
}
http://127.0.0.1:$((BASE_PORT + 31)) {
	reverse_proxy $DEAD
	handle_errors {
		rewrite * /502.html
		file_server {
			root $work/www
		}
	}
}
EOF
	start caddy env HOME="$work" XDG_DATA_HOME="$work" XDG_CONFIG_HOME="$work" caddy run --config "$work/Caddyfile" --adapter caddyfile
	add caddy-ok $((BASE_PORT + 30))
	add caddy-502 $((BASE_PORT + 31))
else
	echo "caddy not available: skipped" >&2
fi

# Wait until every server listens.
for name in "${names[@]}"; do
	port=${url[$name]##*:}
	port=${port%/}
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
done

declare -A rps p99 status
accept='text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
for name in "${names[@]}"; do
	status[$name]=-
	if command -v curl >/dev/null; then
		status[$name]=$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $accept" "${url[$name]}" || echo "?")
	fi
	wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "Accept: $accept" "${url[$name]}" >/dev/null # warm-up
	out=$(wrk --latency -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "Accept: $accept" "${url[$name]}")
	rps[$name]=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p99[$name]=$(awk '$1 == "99%" {print $2}' <<<"$out")
	printf '%-18s %s  %10s req/s  p99 %s\n' "$name" "${status[$name]}" "${rps[$name]}" "${p99[$name]}" >&2
done

ratio() { # a, b: a/b when both were measured
	if [ -n "${rps[$1]:-}" ] && [ -n "${rps[$2]:-}" ]; then
		awk -v a="${rps[$1]}" -v b="${rps[$2]}" 'BEGIN { printf "%.3f", a / b }'
	else
		printf 'n/a'
	fi
}

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, loopback, $(nproc) cores shared by client and servers"
printf '%-18s %6s %12s %10s\n' server status req/s p99
for name in "${names[@]}"; do
	printf '%-18s %6s %12s %10s\n' "$name" "${status[$name]}" "${rps[$name]:-n/a}" "${p99[$name]:-n/a}"
done
echo
echo "ratios (higher is better for gatehouse):"
echo "  success: gatehouse / plain ReverseProxy = $(ratio gatehouse-ok plain-ok)"
echo "  error:   gatehouse / plain ReverseProxy = $(ratio gatehouse-502 plain-502)  (branded page vs bare 502, neither logging)"
echo "  error:   gatehouse / plain ReverseProxy = $(ratio gatehouse-log-502 plain-log-502)  (each logging every failure to a file)"
echo "  error:   constant page / plain ReverseProxy = $(ratio plain-page-502 plain-502)  (the same bytes as gatehouse's page, nothing computed: the floor)"
echo "  error:   gatehouse / constant page = $(ratio gatehouse-502 plain-page-502)  (what computing the page costs)"
echo "  success: gatehouse / nginx = $(ratio gatehouse-ok nginx-ok), gatehouse / caddy = $(ratio gatehouse-ok caddy-ok)"
echo "  error:   gatehouse / nginx = $(ratio gatehouse-502 nginx-502), gatehouse / caddy = $(ratio gatehouse-502 caddy-502)"
