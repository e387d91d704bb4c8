#!/usr/bin/env bash
# Starts Verdaccio, a real npm registry, for the npm integration tests,
# and prints the environment the tests read:
#
#   eval "$(scripts/npm-test-registry.sh start)"   # installs if needed, starts, waits, exports
#   go test ./npm/ ./cmd/...                       # the npm tests run
#   scripts/npm-test-registry.sh stop
#
# Settings (environment variables; the README lists them too):
#   CDNSERVE_TOOLS_ROOT  where tools are installed  ($HOME/.cache/cdnserve; Verdaccio in verdaccio/)
#   CDNSERVE_NPM_PORT    the port on 127.0.0.1      (4873)
#   CDNSERVE_NPM_STATE   the storage and the log    (/tmp/cdnserve-npm)
#
# Verdaccio 6.8.0 is installed once from the npm registry into
# $CDNSERVE_TOOLS_ROOT/verdaccio and reused. On Node 20
# it needs node-fetch pinned to 2.7.0 (shared/notes/real-components.md).
# Each start begins with an empty registry holding only the real packages
# of scripts/real-packages.sh (fetched once, cached): no uplink, so nothing is
# fetched from outside. Packages under @private/ need a token; the others
# are public. A user is registered and its token exported, for the tests
# to publish with npm publish.
set -euo pipefail
VERSION=6.8.0
TOOLS=${CDNSERVE_TOOLS_ROOT:-$HOME/.cache/cdnserve}/verdaccio
STATE=${CDNSERVE_NPM_STATE:-/tmp/cdnserve-npm}
PORT=${CDNSERVE_NPM_PORT:-4873}
USER_NAME=cdnserve-test
USER_PASS=cdnserve-test-password

start() {
  if [ ! -x "$TOOLS/node_modules/.bin/verdaccio" ]; then
    echo "installing verdaccio $VERSION into $TOOLS (once)" >&2
    mkdir -p "$TOOLS"
    cat >"$TOOLS/package.json" <<JSON
{"private": true, "overrides": {"node-fetch": "2.7.0"}, "dependencies": {"verdaccio": "$VERSION"}}
JSON
    (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error >&2)
  fi
  stop >/dev/null 2>&1 || true
  rm -rf "$STATE"
  mkdir -p "$STATE/storage"
  cat >"$STATE/config.yaml" <<YAML
storage: $STATE/storage
auth:
  htpasswd:
    file: $STATE/htpasswd
    max_users: 1000
uplinks: {}
packages:
  '@private/*':
    access: \$authenticated
    publish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
max_body_size: 80mb
log: {type: file, path: $STATE/verdaccio.log, level: warn}
YAML
  "$TOOLS/node_modules/.bin/verdaccio" --config "$STATE/config.yaml" --listen "127.0.0.1:$PORT" \
    >"$STATE/stdout.log" 2>&1 &
  echo $! >"$STATE/pid"
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$PORT/-/ping" >/dev/null 2>&1; then
      token=$(curl -fsS -X PUT -H 'Content-Type: application/json' \
        -d "{\"name\":\"$USER_NAME\",\"password\":\"$USER_PASS\"}" \
        "http://127.0.0.1:$PORT/-/user/org.couchdb.user:$USER_NAME" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
      if [ -z "$token" ]; then
        echo "verdaccio gave no token for $USER_NAME" >&2
        return 1
      fi
      # The real packages the ES-module tests run (issue 26), fetched once
      # from the npm registry and cached.
      CDNSERVE_TEST_NPM_REGISTRY=http://127.0.0.1:$PORT/ CDNSERVE_TEST_NPM_TOKEN=$token \
        "$(dirname "$0")/real-packages.sh" publish >&2
      cat <<ENV
export CDNSERVE_TEST_NPM_REGISTRY=http://127.0.0.1:$PORT/
export CDNSERVE_TEST_NPM_TOKEN=$token
export CDNSERVE_TEST_NPM_STORAGE=$STATE/storage
ENV
      return 0
    fi
    sleep 0.1
  done
  echo "verdaccio did not answer on 127.0.0.1:$PORT within 30 s:" >&2
  cat "$STATE/stdout.log" >&2
  return 1
}

stop() {
  if [ -f "$STATE/pid" ]; then
    kill "$(cat "$STATE/pid")" 2>/dev/null || true
    rm -f "$STATE/pid"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
