#!/usr/bin/env bash
# Serve benchmark: cdnserve against nginx, Caddy, Go's http.FileServer and a
# bare net/http handler serving bytes from memory (the ceiling of any server
# built on net/http), over the same seed-shaped tree, one server at a time.
#
#   bench/run.sh                  # prints the tables; raw wrk output stays in /tmp/cdnbench.*
#
# On a shared machine one wrk run moves by +-30 %, so the servers are run in
# ROUNDS interleaved rounds (each round starts with a different server) and
# the tables show medians: the median req/s of each server, and the median
# of each round's ratio of cdnserve to a peer (both measured minutes apart
# at most), with the spread (lowest-highest) beside it.
#
# Needs Debian's nginx-light, caddy, wrk, brotli, libjs-jquery and
# libjs-underscore (bench/run.sh installs them with apt-get when missing and
# it may), and Go. Load goes to 127.0.0.1 only; each run lasts DUR.
# Env: ROUNDS=3 DUR=8s CONNS=32 WARM=1s PIN=1 QUIET=60 SERVERS="cdnserve nginx caddy gofs gomem gomemh" SCENARIOS="a b c d"
#      (gomemh is gomem sending cdnserve's whole header set with its server timeouts)
#      CDNSERVE_FLAGS (extra serve flags; the default turns the access log off, as nginx.conf does, and the
#                      admin listener, so that two builds can run side by side)
#      BASE_FLAGS (the flags of "base", when its build lacks some of CDNSERVE_FLAGS; default CDNSERVE_FLAGS)
#      BASELINE=<commit> builds cdnserve from that commit as the server "base" (add it to SERVERS)
# PIN=1: the server on CPU 0 (nginx one worker, Go GOMAXPROCS=1), wrk on CPU 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
ROUNDS=${ROUNDS:-3} DUR=${DUR:-8s} CONNS=${CONNS:-32} WARM=${WARM:-1s} PIN=${PIN:-1} QUIET=${QUIET:-60}
SERVERS=${SERVERS:-cdnserve nginx caddy gofs gomem gomemh} SCENARIOS=${SCENARIOS:-a b c d}
CDNSERVE_FLAGS=${CDNSERVE_FLAGS:---access-log=false --admin-addr=}
BASE_FLAGS=${BASE_FLAGS:-$CDNSERVE_FLAGS}

need=()
for c in nginx:nginx-light caddy:caddy wrk:wrk brotli:brotli; do command -v "${c%%:*}" >/dev/null || need+=("${c#*:}"); done
[ -r /usr/share/javascript/jquery/jquery.js ] || need+=(libjs-jquery)
[ -r /usr/share/javascript/underscore/underscore.min.js ] || need+=(libjs-underscore)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

tmp=$(mktemp -d /tmp/cdnbench.XXXXXX)
chmod 755 "$tmp"   # nginx workers (www-data) read the fixture below it
DIR=$tmp/fixture TREE=$tmp/published
"$here/mkfixture.sh" "$DIR" >/dev/null
(cd "$repo" && go build -o "$tmp/cdnserve" ./cmd/cdnserve)
"$tmp/cdnserve" publish "$DIR/2.2.3" --version 2.2.3 --storage "$TREE" --quiet
# BASELINE=<commit> adds "base": cdnserve built from that commit, to
# measure what a change costs (issue 20: the usage counters).
if [ -n "${BASELINE:-}" ]; then
  git -C "$repo" worktree add -q --detach "$tmp/base" "$BASELINE"
  (cd "$tmp/base" && go build -o "$tmp/cdnserve-base" ./cmd/cdnserve)
  git -C "$repo" worktree remove --force "$tmp/base"
fi
(cd "$here/peers/gofs" && go build -o "$tmp/gofs" .)
(cd "$here/peers/gomem" && go build -o "$tmp/gomem" .)
export DIR ROOT=$DIR XDG_CONFIG_HOME=$tmp XDG_DATA_HOME=$tmp

declare -A P C
P[cdnserve]=8090 C[cdnserve]="$tmp/cdnserve serve --storage $TREE --addr 127.0.0.1:\$PORT $CDNSERVE_FLAGS"
P[nginx]=8080    C[nginx]="nginx -p $tmp/nginx -c $tmp/nginx.conf -e $tmp/nginx/error.log"
P[caddy]=8081    C[caddy]="caddy run --adapter caddyfile --config $here/Caddyfile"
P[gofs]=8082     C[gofs]="$tmp/gofs -addr 127.0.0.1:\$PORT -dir \$DIR"
P[gomem]=8084    C[gomem]="$tmp/gomem -addr 127.0.0.1:\$PORT -dir \$DIR"
P[gomemh]=8086   C[gomemh]="$tmp/gomem -cdnheaders -addr 127.0.0.1:\$PORT -dir \$DIR"
P[base]=8092     C[base]="$tmp/cdnserve-base serve --storage $TREE --addr 127.0.0.1:\$PORT $BASE_FLAGS"
workers=auto srvpin=() clipin=()
[ "$ROUNDS" -ge 1 ] || { echo "ROUNDS must be at least 1" >&2; exit 2; }
[ "$PIN" = 1 ] && workers=1 srvpin=(taskset -c 0) clipin=(taskset -c 1)
sed -e "s|@ROOT@|$DIR|g; s|@PORT@|${P[nginx]}|g; s|@WORKERS@|$workers|g; s|@TMP@|$tmp/nginx|g" "$here/nginx.conf" > "$tmp/nginx.conf"
mkdir -p "$tmp/nginx"

pid=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=; }
trap stop EXIT
start() {
  ! curl -so /dev/null "http://127.0.0.1:${P[$1]}/" || { echo "port ${P[$1]} is already in use" >&2; return 1; }
  PORT=${P[$1]} "${srvpin[@]}" bash -c "exec ${C[$1]}" > "$tmp/$1.log" 2>&1 & pid=$!
  for _ in $(seq 100); do
    curl -fso /dev/null "http://127.0.0.1:${P[$1]}/2.2.3/sockjs.min.js" && return 0
    kill -0 "$pid" 2>/dev/null || break; sleep 0.1
  done
  echo "$1 did not come up:" >&2; cat "$tmp/$1.log" >&2; return 1
}
srvticks() { local t=0 p; for p in $pid $(pgrep -P "$pid"); do
  t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
idle() { { head -1 /proc/stat; sleep 1; head -1 /proc/stat; } |
  awk '{b = $2+$3+$4+$7+$8+$9; t = b+$5+$6} NR == 1 {b0 = b; t0 = t} NR == 2 {printf "%d", 100 - 100*(b-b0)/(t-t0)}'; }
quiet() { local i n=0; while i=$(idle); [ "$i" -lt 85 ] && [ $((n += 1)) -le "$QUIET" ]; do :; done
  [ "$i" -ge 85 ] || { echo "warning: box only $i% idle before $s/$sc" >&2; note="$note~"; }; }
hdr() { curl -s -D - -o /dev/null "${@:2}" "$url" | tr -d '\r' | awk -v h="$1" -F': ' 'tolower($1)==h {print $2}'; }

# measure runs wrk against server $1 in scenario $2, round $3, and appends
# a row to $res: scenario, server, req/s, p99 ms, status, CPU, body and
# header bytes, round.
measure() {
  local s=$1 sc=$2 round=$3
  h=() note=
  case $sc in
    a) url=/2.2.3/sockjs.min.js ;;
    b) url=/2.2.3/pusher.min.js h=("Accept-Encoding: gzip, br") ;;
    c) url=/2.2.3/pusher.min.js ;;
    d) url=/2.2.3/big.js ;;
  esac
  url=http://127.0.0.1:${P[$s]}$url
  if [ "$sc" = c ]; then
    e=$(hdr etag)
    if [ -n "$e" ]; then h=("If-None-Match: $e") note=INM; else h=("If-Modified-Since: $(hdr last-modified)") note=IMS; fi
  fi
  ch=() wh=(); for x in "${h[@]}"; do ch+=(-H "$x") wh+=(-H "$x"); done
  read -r code body head < <(curl -s -o /dev/null -w '%{http_code} %{size_download} %{size_header}\n' "${ch[@]}" "$url")
  if [ "$sc" = b ] && [ "$round" = 1 ]; then
    printf '%s' "$s" >> "$hdrs"
    for k in content-encoding content-length content-type etag cache-control vary access-control-allow-origin; do
      printf '\t%s' "$(hdr $k "${ch[@]}" | paste -sd, -)" >> "$hdrs"
    done; echo >> "$hdrs"
  fi
  quiet
  "${clipin[@]}" wrk -t1 -c"$CONNS" -d"$WARM" "${wh[@]}" "$url" > /dev/null
  out=$tmp/wrk-$s-$sc-$round.txt
  t0=$(date +%s%N) c0=$(srvticks); times > "$tmp/t0"
  "${clipin[@]}" wrk -t1 -c"$CONNS" -d"$DUR" --latency "${wh[@]}" "$url" > "$out"
  times > "$tmp/t1"; c1=$(srvticks) t1=$(date +%s%N)
  cpu=$(cat "$tmp/t0" "$tmp/t1" | awk -v s=$((c1 - c0)) -v ns=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
    function sec(x, a) { split(x, a, "m"); sub(/s$/, "", a[2]); return a[1] * 60 + a[2] }
    NR == 2 { w = -sec($1) - sec($2) } NR == 4 { w += sec($1) + sec($2) }
    END { printf "%.0f/%.0f", 100 * s / hz / (ns / 1e9), 100 * w / (ns / 1e9) }')
  awk -v round="$round" -v s="$s" -v sc="$sc" -v code="$code$note" -v cpu="$cpu" -v body="$body" -v head="$head" '
    /^ +99%/ { v=$2; m=1; if (v ~ /us$/) m=0.001; else if (v ~ /[0-9]s$/) m=1000; sub(/[a-z]+$/,"",v); p=v*m }
    /^Requests\/sec/ { r=$2 }
    /Non-2xx|Socket errors/ { err=err "!" }
    END { printf "%s\t%s\t%.0f\t%.2f\t%s%s\t%s\t%d\t%d\t%d\n", sc, s, r, p, code, err, cpu, body, head, round }' "$out" >> "$res"
}

res=$tmp/results.tsv hdrs=$tmp/headers.tsv; : > "$res"; : > "$hdrs"
read -ra order <<< "$SERVERS"
for ((round = 1; round <= ROUNDS; round++)); do
  # Interleave: round k starts with the k-th server, so no server always
  # runs first (or last) in a quiet (or busy) stretch.
  k=$(( (round - 1) % ${#order[@]} ))
  for s in "${order[@]:k}" "${order[@]:0:k}"; do
    start "$s"
    for sc in $SCENARIOS; do
      measure "$s" "$sc" "$round"
    done
    stop
  done
done

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t1 -c$CONNS -d$DUR PIN=$PIN ROUNDS=$ROUNDS raw=$tmp"
echo "# $(dpkg-query -W -f '${Package} ${Version}, ' nginx-light caddy wrk 2>/dev/null)$(go version | cut -d' ' -f3), cdnserve $CDNSERVE_FLAGS"
awk -F'\t' -v servers="$SERVERS" -v scen="$SCENARIOS" -v rounds="$ROUNDS" '
  { R[$1,$2,$9]=$3; P[$1,$2,$9]=$4; c[$1,$2]=$5; u[$1,$2]=$6; b[$1,$2]=$7; h[$1,$2]=$8 }
  # med sorts n values of a (1..n) and returns the median.
  function med(a, n,   i, j, t) {
    for (i=2;i<=n;i++) for (j=i;j>1 && a[j-1]>a[j];j--) { t=a[j]; a[j]=a[j-1]; a[j-1]=t }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
  # stat fills r (median req/s), p (median p99), lo/hi (spread) for a cell.
  function stat(sc, s,   k, n, x, y) { n=0
    for (k=1;k<=rounds;k++) if ((sc,s,k) in R) { n++; x[n]=R[sc,s,k]; y[n]=P[sc,s,k] }
    if (!n) return 0
    r[sc,s]=med(x, n); p[sc,s]=med(y, n); lo[sc,s]=x[1]; hi[sc,s]=x[n]; return 1 }
  # ratio sets q (the median over rounds of cdnserve/peer) and ql/qh.
  function ratio(sc, peer,   k, n, x) { n=0
    for (k=1;k<=rounds;k++) if ((sc,"cdnserve",k) in R && (sc,peer,k) in R && R[sc,peer,k] > 0) { n++; x[n]=R[sc,"cdnserve",k]/R[sc,peer,k] }
    if (!n) return 0
    q=med(x, n); ql=x[1]; qh=x[n]; return 1 }
  END {
    ns=split(servers, S, " "); nc=split(scen, X, " ")
    for (j=1;j<=nc;j++) for (i=1;i<=ns;i++) stat(X[j], S[i])
    printf "\nmedian req/s of %d rounds | spread (lowest-highest, as %% of the median) | median p99 ms | status\n", rounds
    printf "(INM/IMS = conditional header, ! = wrk errors, ~ = box busy before a run)\n%-4s", "sc"
    for (i=1;i<=ns;i++) printf "%30s", S[i]; print ""
    for (j=1;j<=nc;j++) { printf "%-4s", X[j]
      for (i=1;i<=ns;i++) { k=X[j] SUBSEP S[i]
        printf "%30s", (k in r) ? sprintf("%d | %.0f%% | %.2f | %s", r[k], r[k] ? 100*(hi[k]-lo[k])/r[k] : 0, p[k], c[k]) : "-" }
      print "" }
    printf "\nbytes per response: body + headers\n%-4s", "sc"; for (i=1;i<=ns;i++) printf "%16s", S[i]; print ""
    for (j=1;j<=nc;j++) { printf "%-4s", X[j]; for (i=1;i<=ns;i++) printf "%16s", b[X[j],S[i]] " + " h[X[j],S[i]]; print "" }
    printf "\nCPU%% server/wrk in the last round (100 = one core)\n%-4s", "sc"; for (i=1;i<=ns;i++) printf "%10s", S[i]; print ""
    for (j=1;j<=nc;j++) { printf "%-4s", X[j]; for (i=1;i<=ns;i++) printf "%10s", u[X[j],S[i]]; print "" }
    if (!(("a","cdnserve") in r)) exit
    printf "\ncdnserve req/s as a ratio of each peer: median of the rounds (lowest-highest)\n%-4s", "sc"
    for (i=1;i<=ns;i++) if (S[i] != "cdnserve") printf "%18s", S[i]; print ""
    for (j=1;j<=nc;j++) { printf "%-4s", X[j]
      for (i=1;i<=ns;i++) if (S[i] != "cdnserve") printf "%18s", ratio(X[j], S[i]) ? sprintf("%.2f (%.2f-%.2f)", q, ql, qh) : "-"; print "" }
    # The targets of issues 9 and 13, on the median ratios.
    print "\ntargets (median ratio of the rounds)"
    t("a", "nginx", 0.75); t("b", "nginx", 0.5); t("c", "nginx", 0.6)
    for (k = 1; k <= 3; k++) { sc = substr("abc", k, 1); t(sc, "caddy", 3); t(sc, "gofs", 2) }
    for (k = 1; k <= 3; k++) { sc = substr("abc", k, 1); t(sc, "gomemh", 0.95) }
    if (("b","nginx") in b) printf "  %-38s %s (%d vs %d bytes of body)\n", "(b) fewer bytes than nginx", (b["b","cdnserve"] < b["b","nginx"] ? "met" : "MISSED"), b["b","cdnserve"], b["b","nginx"]
    if (("d","nginx") in r) { split(u["d","cdnserve"], cw, "/"); ratio("d", "nginx")
      printf "  %-38s %s (%.2f; wrk CPU %s%%)\n", "(d) >= 0.9x nginx, or wrk-bound", ((q >= 0.9 || cw[2] >= 95) ? "met" : "MISSED"), q, cw[2] }
    for (k = 1; k <= 3; k++) { sc = substr("abc", k, 1); if (ratio(sc, "gomem")) printf "  %-38s %.2f\n", "(" sc ") of the net/http ceiling (gomem)", q }
  }
  function t(sc, peer, want) { if (ratio(sc, peer))
    printf "  %-38s %s (%.2f, rounds %.2f-%.2f)\n", "(" sc ") >= " want "x " peer, (q >= want ? "met" : "MISSED"), q, ql, qh }
' "$res"
if [ -s "$hdrs" ]; then
  printf '\n(b) response headers (GET, Accept-Encoding: gzip, br)\n'
  (printf 'server\tContent-Encoding\tContent-Length\tContent-Type\tETag\tCache-Control\tVary\tACAO\n'
   sed 's/\t\t/\t-\t/g; s/\t\t/\t-\t/g; s/\t$/\t-/' "$hdrs") | column -t -s $'\t'
fi
