#!/usr/bin/env bash
# End-to-end cost of Gatehouse's reverse proxy on loopback, measured with wrk
# beside a plain httputil.ReverseProxy and nginx: the success path (a 1 KB
# page from a Go upstream), the error path (a refused upstream: the plain
# proxy's empty 502, a constant copy of Gatehouse's page, Gatehouse's page in
# HTML and text) and the breaker-open path.
#
# Not run by CI: it installs packages and takes several minutes. Run it by
# hand on an otherwise idle machine:
#
#	benchmarks/e2e/run.sh                   # MODE=pinned ROUNDS=5 DURATION=5s CONNECTIONS=32 SEED=1
#	ROWS='plain-ok gatehouse-ok' benchmarks/e2e/run.sh   # only these rows
#	MODE=shared DURATION=10s benchmarks/e2e/run.sh
#
# MODE=pinned (the default) measures what a gateway pays in CPU: every proxy
# runs with GOMAXPROCS=1 pinned to one core (PROXY_CPU, default 0); wrk
# (-t1) and the upstream share the other (CLIENT_CPU, default 1), so that
# the proxy's core is the bottleneck and the upstream's own cost is not
# counted. The rows are measured in ROUNDS interleaved rounds (each row
# once per round, in an order shuffled anew for each round, the rows that
# a ratio compares next to each other), and each row's figures are its
# medians.
# MODE=shared is the earlier way: nothing pinned, wrk -t2, every process on
# every core, one round.
#
# It installs wrk and nginx with apt-get when they are missing; nginx is
# skipped when it cannot be installed (Caddy is measured only when it is
# already installed). Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${MODE:-pinned}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
BASE_PORT=${BASE_PORT:-18080}
PROXY_CPU=${PROXY_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
case $MODE in
pinned)
	THREADS=${THREADS:-1}
	command -v taskset >/dev/null || { echo "taskset (util-linux) is required for MODE=pinned" >&2; exit 1; }
	on_proxy=(taskset -c "$PROXY_CPU" env GOMAXPROCS=1)
	on_client=(taskset -c "$CLIENT_CPU")
	;;
shared)
	THREADS=${THREADS:-2}
	ROUNDS=1
	on_proxy=(env)
	on_client=(env)
	;;
*)
	echo "MODE must be pinned or shared" >&2
	exit 1
	;;
esac

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

install wrk nginx curl
command -v wrk >/dev/null || { echo "wrk is required" >&2; exit 1; }

if (exec 3<>"/dev/tcp/${DEAD%:*}/${DEAD#*:}") 2>/dev/null; then
	echo "something listens on $DEAD; set BASE_PORT" >&2
	exit 1
fi

# The custom error page served by nginx (and Caddy), close in size to
# Gatehouse's default page.
mkdir -p "$work/www"
cat >"$work/www/502.html" <<'PAGE'
<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>502 Bad Gateway</title>
<style>body{font-family:system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1d2330}
main{max-width:36rem;padding:2rem}h1{font-size:1.6rem}p{line-height:1.5}</style></head>
<body><main><h1>The service is not answering right now.</h1>
<p>We could not reach the application behind this site. Please try again in a moment.</p>
<p><small>Error 502</small></p></main></body></html>
PAGE
# nginx's workers run as an unprivileged user.
chmod -R a+rX "$work"

go build -o "$work/e2eserver" ./e2e/e2eserver

declare -A pid_of
start() { # name, command...
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
	pid_of[$name]=$!
}

# cpu_ticks PID: the CPU time (user and system, in clock ticks) of the
# process and of its child processes (nginx's workers), so far.
cpu_ticks() {
	local total=0 p
	for p in "$1" $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
		total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$total"
}
tck=$(getconf CLK_TCK)

declare -A url hdr proc # proc: the name under which the row's server was started
names=()
port=$((BASE_PORT + 10))
wanted() { [ -z "${ROWS:-}" ] || [[ " $ROWS " == *" $1 "* ]]; }
# row NAME ACCEPT MODE TARGET [FLAGS...]: a proxy of its own on the next
# port, measured with the given Accept field ("-" for none).
row() {
	local name=$1 accept=$2 mode=$3 target=$4
	shift 4
	port=$((port + 1))
	wanted "$name" || return 0
	start "$name" "${on_proxy[@]}" "$work/e2eserver" -mode "$mode" -listen "127.0.0.1:$port" -target "$target" "$@"
	url[$name]="http://127.0.0.1:$port/"
	hdr[$name]=$accept
	proc[$name]=$name
	names+=("$name")
}

start upstream "${on_client[@]}" "$work/e2eserver" -mode upstream -size 1024 -listen "$UPSTREAM"
html='text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
# Success path: a 1 KB page.
row plain-default-ok - plain-default "http://$UPSTREAM"
row plain-ok - plain "http://$UPSTREAM"
row plain-via-ok - plain "http://$UPSTREAM" -via
row quickstart-ok - gatehouse-zero "http://$UPSTREAM"
row gatehouse-ok - gatehouse "http://$UPSTREAM"
# Error path: a refused upstream.
row plain-502 - plain "http://$DEAD"
row const-html-502 - plain-page "http://$DEAD" -page html
row gatehouse-502 - gatehouse "http://$DEAD"
row const-html-accept-502 "$html" plain-page "http://$DEAD" -page html
row gatehouse-html-502 "$html" gatehouse "http://$DEAD"
row const-text-502 text/plain plain-page "http://$DEAD" -page text
row gatehouse-text-502 text/plain gatehouse "http://$DEAD"
row quickstart-502 - gatehouse-zero "http://$DEAD"
# Breaker open: a fast failure, no dial.
row gatehouse-open - gatehouse "http://$DEAD" -breaker

port=$((port + 1))
if command -v nginx >/dev/null && { wanted nginx-ok || wanted nginx-502; }; then
	mkdir -p "$work/nginx/logs"
	workers=auto
	[ "$MODE" = pinned ] && workers=1
	cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
worker_processes $workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log crit;
events { worker_connections 4096; }
http {
	access_log off; # the Go proxies log nothing either
	# Keep-alive to the upstream, as the Go proxies do; max_fails=0 so that
	# the dead upstream is tried on every request, as the Go proxies do.
	upstream ok { server $UPSTREAM max_fails=0; keepalive 256; }
	upstream dead { server $DEAD max_fails=0; }
	server {
		listen 127.0.0.1:$port;
		location / { proxy_pass http://ok; proxy_http_version 1.1; proxy_set_header Connection ""; }
	}
	server {
		listen 127.0.0.1:$((port + 1));
		error_page 502 /502.html;
		location = /502.html { root $work/www; internal; }
		location / { proxy_pass http://dead; proxy_http_version 1.1; proxy_set_header Connection ""; }
	}
}
CONF
	if [ "$MODE" = pinned ]; then
		start nginx taskset -c "$PROXY_CPU" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
	else
		start nginx nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
	fi
	for n in nginx-ok nginx-502; do
		wanted "$n" || continue
		url[$n]="http://127.0.0.1:$port/"
		[ "$n" = nginx-502 ] && url[$n]="http://127.0.0.1:$((port + 1))/"
		hdr[$n]=-
		proc[$n]=nginx
		names+=("$n")
	done
elif ! command -v nginx >/dev/null; then
	echo "nginx not available: skipped" >&2
fi

port=$((port + 2))
if command -v caddy >/dev/null && { wanted caddy-ok || wanted caddy-502; }; then
	cat >"$work/Caddyfile" <<CONF
{
	admin off
	auto_https off
	log default {
		output discard
	}
}
http://127.0.0.1:$port {
	reverse_proxy $UPSTREAM
}
http://127.0.0.1:$((port + 1)) {
	reverse_proxy $DEAD
	handle_errors {
		rewrite * /502.html
		file_server {
			root $work/www
		}
	}
}
CONF
	start caddy "${on_proxy[@]}" HOME="$work" XDG_DATA_HOME="$work" XDG_CONFIG_HOME="$work" caddy run --config "$work/Caddyfile" --adapter caddyfile
	for n in caddy-ok caddy-502; do
		wanted "$n" || continue
		url[$n]="http://127.0.0.1:$port/"
		[ "$n" = caddy-502 ] && url[$n]="http://127.0.0.1:$((port + 1))/"
		hdr[$n]=-
		proc[$n]=caddy
		names+=("$n")
	done
fi

# Wait until every server listens.
for u in "http://$UPSTREAM/" "${url[@]}"; do
	p=${u##*:}
	p=${p%/}
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
		sleep 0.1
	done
done

# accept_args NAME: the Accept field of a row, as command-line arguments.
accept_args() { [ "${hdr[$1]}" = - ] || printf '%s\n' -H "Accept: ${hdr[$1]}"; }

# wrk_row NAME DURATION [ARGS...]: wrk against a row, with its Accept field.
wrk_row() {
	local name=$1 d=$2
	shift 2
	local args
	mapfile -t args < <(accept_args "$name")
	"${on_client[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$d" "$@" "${args[@]}" "${url[$name]}"
}

# to_us converts wrk's latency ("812.00us", "1.23ms", "1.01s") to microseconds.
to_us() {
	awk '{ v = $1; u = $1; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u)
		f = (u == "s") ? 1e6 : (u == "ms") ? 1e3 : 1; printf "%.0f", v * f }' <<<"$1"
}

declare -A status samples lat cpus
for name in "${names[@]}"; do
	mapfile -t a < <(accept_args "$name")
	status[$name]=$(curl -s -o /dev/null -w '%{http_code}' "${a[@]}" "${url[$name]}" 2>/dev/null || echo "?")
	wrk_row "$name" 2s >/dev/null # warm-up
	samples[$name]="" lat[$name]="" cpus[$name]=""
done
# Each round measures the rows in an order of its own, shuffled (SEED, 1
# by default, makes the orders repeatable), so that no row always follows
# the same one: a row's cost can depend on what ran just before it on the
# same machine (plain-default-ok leaves thousands of sockets in TIME-WAIT;
# a busy row leaves the caches cold). The rows that a ratio below compares
# are measured next to each other: the rows are shuffled within their
# group (the success rows; the error rows with no Accept field, the breaker
# among them; those with a browser's; the text rows), and the groups are
# shuffled, so that a slow drift of the machine's speed between the two
# rows of a ratio stays small.
group_of() {
	case $1 in
	*-ok) echo success ;;
	*accept-502 | gatehouse-html-502) echo accept ;;
	*-text-502) echo text ;;
	*) echo html ;;
	esac
}
declare -A members
groups=()
for name in "${names[@]}"; do
	g=$(group_of "$name")
	[ -n "${members[$g]:-}" ] || groups+=("$g")
	members[$g]+="$name "
done
# shuffle NAME...: sets shuffled to the names in a random order (in this
# shell, not a subshell, so that SEED's sequence goes on from call to call).
shuffle() {
	shuffled=("$@")
	local k j t
	for ((k = ${#shuffled[@]} - 1; k > 0; k--)); do
		j=$((RANDOM % (k + 1)))
		t=${shuffled[k]} shuffled[k]=${shuffled[j]} shuffled[j]=$t
	done
}
RANDOM=${SEED:-1}
for round in $(seq "$ROUNDS"); do
	order=()
	shuffle "${groups[@]}"
	gs=("${shuffled[@]}")
	for g in "${gs[@]}"; do
		read -r -a ms <<<"${members[$g]}"
		shuffle "${ms[@]}"
		order+=("${shuffled[@]}")
	done
	for name in "${order[@]}"; do
		pid=${pid_of[${proc[$name]}]}
		c0=$(cpu_ticks "$pid")
		out=$(wrk_row "$name" "$DURATION" --latency)
		c1=$(cpu_ticks "$pid")
		r=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
		l=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
		n=$(awk '/ requests in / {print $1}' <<<"$out")
		c=$(awk -v t=$((c1 - c0)) -v hz="$tck" -v n="$n" 'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n }')
		samples[$name]+="$r "
		lat[$name]+="$l "
		cpus[$name]+="$c "
		printf 'round %d/%d %-20s %10s req/s  p99 %7s us  %6s cpu-us/req\n' "$round" "$ROUNDS" "$name" "$r" "$l" "$c" >&2
	done
done

median() {
	tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g |
		awk '{ a[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

declare -A rps p99 cpu
for name in "${names[@]}"; do
	rps[$name]=$(median "${samples[$name]}")
	p99[$name]=$(median "${lat[$name]}")
	cpu[$name]=$(median "${cpus[$name]}")
done

ratio() { # a b [p99|cpu]: a/b of the req/s (or of the p99) when both were measured; cpu: b/a of the CPU per request
	local x y
	case "${3:-}" in
	p99) x=${p99[$1]:-} y=${p99[$2]:-} ;;
	cpu) x=${cpu[$2]:-} y=${cpu[$1]:-} ;;
	*) x=${rps[$1]:-} y=${rps[$2]:-} ;;
	esac
	if [ -n "$x" ] && [ -n "$y" ]; then
		awk -v a="$x" -v b="$y" 'BEGIN { printf "%.3f", a / b }'
	else
		printf 'n/a'
	fi
}

# paired a b: the median over the rounds of a/b of the req/s measured in
# the same round, and the lowest and highest of those ratios. Rows
# measured in one round run within minutes of each other, so a change of
# the load on the host between rounds moves both alike.
paired() {
	local -a xs ys
	read -r -a xs <<<"${samples[$1]:-}"
	read -r -a ys <<<"${samples[$2]:-}"
	if [ ${#xs[@]} -eq 0 ] || [ ${#xs[@]} -ne ${#ys[@]} ]; then
		printf 'n/a'
		return
	fi
	local r="" i
	for i in "${!xs[@]}"; do
		r+="$(awk -v a="${xs[$i]}" -v b="${ys[$i]}" 'BEGIN { if (b > 0) printf "%.4f", a / b }') "
	done
	# The median, then the lowest and highest round's ratio: how far one
	# round can mislead.
	tr ' ' '\n' <<<"$r" | awk 'NF' | sort -g |
		awk -v m="$(median "$r")" '{ a[NR] = $1 } END { printf "%.3f, rounds %.3f-%.3f", m, a[1], a[NR] }'
}

# ratios a b: a/b as the table below gives it: of the req/s medians, of
# the CPU times per request, and paired.
ratios() {
	printf '%s (%s; paired %s)' "$(ratio "$1" "$2")" "$(ratio "$1" "$2" cpu)" "$(paired "$1" "$2")"
}

echo
if [ "$MODE" = pinned ]; then
	echo "MODE=pinned: proxies GOMAXPROCS=1 on CPU $PROXY_CPU; wrk -t$THREADS -c$CONNECTIONS -d$DURATION and the upstream on CPU $CLIENT_CPU; medians of $ROUNDS interleaved rounds"
else
	echo "MODE=shared: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, loopback, $(nproc) cores shared by client and servers"
fi
echo "$(uname -m), $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(go version | awk '{print $3}')"
printf '%-20s %-12s %6s %12s %10s %11s\n' row accept status req/s p99-us cpu-us/req
for name in "${names[@]}"; do
	printf '%-20s %-12s %6s %12s %10s %11s\n' "$name" "${hdr[$name]:0:12}" "${status[$name]}" "${rps[$name]:-n/a}" "${p99[$name]:-n/a}" "${cpu[$name]:-n/a}"
done
echo
echo "ratios [goal] (in parentheses: the same from the server's CPU time per request, less sensitive to other load on its core; then the median of each round's own ratio, and the lowest and highest of those):"
echo "  success: gatehouse / plain, same tuned transport       $(ratios gatehouse-ok plain-ok)  [>= 0.98]  p99 $(ratio gatehouse-ok plain-ok p99) [<= 1.05]"
echo "  success: gatehouse / plain adding a Via entry too      $(ratios gatehouse-ok plain-via-ok)  (RFC 9110 requires the entry of a proxy; the plain proxy leaves it out)"
echo "  success: quick start / plain NewSingleHostReverseProxy $(ratios quickstart-ok plain-default-ok)  [>= 2]"
echo "  success: quick start / plain, tuned transport          $(ratios quickstart-ok plain-ok)  [>= 0.95]"
echo "  error:   constant HTML page / empty 502                $(ratios const-html-502 plain-502)  (the floor: sending the bytes)"
echo "  error:   gatehouse HTML, no Accept / constant HTML     $(ratios gatehouse-502 const-html-502)  [>= 0.95]"
echo "  error:   gatehouse HTML, Accept html / constant HTML   $(ratios gatehouse-html-502 const-html-accept-502)  [>= 0.95]  (both sent the browser's Accept)"
echo "  error:   gatehouse text / constant text page           $(ratios gatehouse-text-502 const-text-502)  [>= 0.95]"
echo "  error:   quick start / constant HTML page              $(ratios quickstart-502 const-html-502)"
echo "  breaker: gatehouse breaker open / empty 502            $(ratios gatehouse-open plain-502)  [>= 1.9]"
echo "  nginx:   gatehouse / nginx, success $(ratio gatehouse-ok nginx-ok), error $(ratio gatehouse-502 nginx-502); nginx page / empty 502 $(ratio nginx-502 plain-502)"
