#!/usr/bin/env bash
# Build benchmark: cdnserve build against terser (--compress --mangle) on
# the same seed-shaped library: a licensed bundle concatenating real
# script-style JavaScript (jQuery and Underscore from Debian's packages),
# a second bundle, and a single file. Reports wall times (best of RUNS)
# and the minified and gzip -9 sizes of the main bundle.
#
#   bench/build.sh
#
# Needs Go, node and npm (terser comes from the npm registry into a temp
# dir), libjs-jquery and libjs-underscore.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=${RUNS:-5}
js=/usr/share/javascript
[ -r $js/jquery/jquery.js ] && [ -r $js/underscore/underscore.js ] ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjs-jquery libjs-underscore >&2
tmp=$(mktemp -d /tmp/cdnbuild.XXXXXX)
(cd "$repo" && go build -o "$tmp/cdnserve" ./cmd/cdnserve)
(cd "$tmp" && npm install --silent --no-audit --no-fund terser@5 >/dev/null 2>&1)
terser=$tmp/node_modules/.bin/terser

# The project: pusher.js = license + jquery.js + underscore.js (script style).
mkdir -p "$tmp/lib/src"
printf '/*!\n * Seed-shaped benchmark library v<VERSION>\n */' > "$tmp/lib/src/license.js"
cp $js/jquery/jquery.js "$tmp/lib/src/jquery.js"
cp $js/underscore/underscore.js "$tmp/lib/src/underscore.js"
cat > "$tmp/lib/src/sockjs.js" <<'JS'
var SockJS = (function () {
  function SockJS(url) { this.url = url; this.readyState = SockJS.CONNECTING; }
  SockJS.CONNECTING = 0; SockJS.OPEN = 1; SockJS.CLOSING = 2; SockJS.CLOSED = 3;
  return SockJS;
})();
JS
cat > "$tmp/lib/cdnserve.yaml" <<YAML
version: 1.0.0
src_dir: src
target: es5
bundles:
  pusher.js:
    license: license.js
    files: [jquery.js, underscore.js]
  sockjs.js:
    files: [sockjs.js]
substitutions:
  all:
    <VERSION>: "{{version}}"
YAML
# The same concatenated source for terser, as cdnserve's plain output lays it out.
{ cat "$tmp/lib/src/jquery.js"; echo; cat "$tmp/lib/src/underscore.js"; echo; } > "$tmp/concat.js"

best() { # best wall time in ms of RUNS runs of a command
  local b=999999 t0 t1 ms i
  for i in $(seq "$RUNS"); do
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 )); [ "$ms" -lt "$b" ] && b=$ms
  done; echo "$b"
}
cd "$tmp/lib"
t_dry=$(best "$tmp/cdnserve" build --dry-run --quiet)
t_full=$(best sh -c "rm -rf dist && '$tmp/cdnserve' build --quiet")
t_terser=$(best "$terser" "$tmp/concat.js" --compress --mangle -o "$tmp/terser.min.js")
"$tmp/cdnserve" build --quiet --force
ours=$tmp/lib/dist/1.0.0/pusher.min.js
# Compare code only: cdnserve's file starts with the license, terser's has none.
lic=$(( $(wc -c < "$tmp/lib/src/license.js") + 1 ))
tail -c +$((lic + 1)) "$ours" > "$tmp/ours-code.js"
size() { wc -c < "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }
printf '# %s, %s cores, node %s, terser %s, %s\n' "$(date -u +%FT%TZ)" "$(nproc)" "$(node --version)" "$("$terser" --version | cut -d' ' -f2)" "$(go version | cut -d' ' -f3)"
printf 'input: %d bytes of script-style JavaScript (jquery.js + underscore.js)\n\n' "$(size "$tmp/concat.js")"
printf '%-44s %10s %12s %10s\n' "" "wall ms" "min bytes" "gzip -9"
printf '%-44s %10s %12d %10d\n' "cdnserve build --dry-run (bundle + minify)" "$t_dry" "$(size "$tmp/ours-code.js")" "$(gz "$tmp/ours-code.js")"
printf '%-44s %10s %12s %10s\n' "cdnserve build (+ br/gz sidecars, publish)" "$t_full" "" ""
printf '%-44s %10s %12d %10d\n' "terser --compress --mangle" "$t_terser" "$(size "$tmp/terser.min.js")" "$(gz "$tmp/terser.min.js")"
awk -v d="$t_dry" -v f="$t_full" -v t="$t_terser" -v og="$(gz "$tmp/ours-code.js")" -v tg="$(gz "$tmp/terser.min.js")" 'BEGIN {
  printf "\nspeed-up over terser: %.1fx (bundle + minify), %.1fx (whole build and publish); target 10x: %s\n", t / d, t / f, (t / d >= 10 ? "met" : "MISSED")
  printf "gzip size vs terser: %+.1f%%; target within 3%%: %s\n", 100 * (og - tg) / tg, ((og - tg) / tg <= 0.03 ? "met" : "MISSED") }'
