#!/usr/bin/env bash
# Puts the real npm packages that the ES-module tests run (issue 26) into
# the test registry:
#
#   eval "$(scripts/npm-test-registry.sh start)"   # calls this script itself
#   scripts/real-packages.sh publish               # or again, by hand
#
# testdata/realpkgs/package-lock.json pins them (react, react-dom, preact,
# lit, vue, three, d3, lodash-es, @floating-ui/dom and their dependencies,
# 78 packages). Each tarball is fetched once from the npm registry with
# `npm pack`, checked against the lockfile's sha512, and cached in
# ${CDNSERVE_TOOLS_ROOT:-$HOME/.cache/cdnserve}/npm-packs; then all are
# published into the registry named by CDNSERVE_TEST_NPM_REGISTRY with
# `npm publish`, as they are (the registry then serves npm's own bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${CDNSERVE_TOOLS_ROOT:-$HOME/.cache/cdnserve}/npm-packs
LOCK=testdata/realpkgs/package-lock.json

# list prints "name version integrity" for every package of the lockfile.
list() {
  node -e '
    const l = require(process.argv[1]);
    for (const [k, p] of Object.entries(l.packages)) {
      if (!k) continue;
      console.log(k.replace(/.*node_modules\//, ""), p.version, p.integrity);
    }' "$PWD/$LOCK"
}

# supplychain prints "name version integrity [from]" for the tarballs
# of the supply-chain gate's signed fixtures (testdata/supplychain,
# issue 27): not published into the registry, only cached for the tests'
# own signing registry. "from" takes the tarball out of another package
# (npm-registry-mock, npm's test registry, holds @isaacs/namespace-test).
supplychain() {
  grep -v '^#' testdata/supplychain/tarballs.txt
}

# fetch packs every package missing from the cache, and checks each
# cached tarball's sha512 against the lockfile.
fetch() {
  mkdir -p "$CACHE"
  { list; supplychain; } | while read -r name version integrity from; do
    file="$CACHE/$(echo "$name" | tr / +)-$version.tgz"
    if [ ! -s "$file" ]; then
      tmp=$(mktemp -d)
      if [ -n "${from:-}" ]; then
        (cd "$tmp" && npm pack "${from%%:*}" --registry https://registry.npmjs.org/ --loglevel=error >/dev/null &&
          tar xzf ./*.tgz "${from#*:}" && mv "${from#*:}" "$file")
      else
        (cd "$tmp" && npm pack "$name@$version" --registry https://registry.npmjs.org/ --loglevel=error >/dev/null)
        mv "$tmp"/*.tgz "$file"
      fi
      rm -rf "$tmp"
    fi
    got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
      echo "real-packages: $name@$version: the tarball's sha512 is $got, the lockfile says $integrity; removed $file, run again" >&2
      rm -f "$file"
      return 1
    fi
  done
}

# publish publishes every cached tarball into the test registry, four at
# a time, skipping those it already has.
publish() {
  : "${CDNSERVE_TEST_NPM_REGISTRY:?start the registry first: eval \"\$(scripts/npm-test-registry.sh start)\"}"
  fetch
  rc=$(mktemp)
  host=${CDNSERVE_TEST_NPM_REGISTRY#http:}
  printf 'registry=%s\n%s:_authToken=%s\n' "$CDNSERVE_TEST_NPM_REGISTRY" "$host" "$CDNSERVE_TEST_NPM_TOKEN" >"$rc"
  list | while read -r name version _; do
    if ! curl -fsS -o /dev/null "${CDNSERVE_TEST_NPM_REGISTRY}$(echo "$name" | sed 's|/|%2f|')/$version" 2>/dev/null; then
      echo "$CACHE/$(echo "$name" | tr / +)-$version.tgz"
    fi
  done | xargs -r -P 4 -n 1 npm publish --userconfig "$rc" --registry "$CDNSERVE_TEST_NPM_REGISTRY" \
    --tag latest --loglevel=error --no-audit --no-fund --ignore-scripts --provenance=false >/dev/null
  rm -f "$rc"
}

case "${1:-}" in
  fetch) fetch ;;
  publish) publish ;;
  list) list ;;
  supplychain) supplychain ;;
  *) echo "usage: $0 fetch|publish|list|supplychain" >&2; exit 2 ;;
esac
