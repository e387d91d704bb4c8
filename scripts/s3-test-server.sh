#!/usr/bin/env bash
# Starts versitygw, a real S3 gateway with a posix backend, for the S3
# integration tests, and prints the environment the tests read:
#
#   eval "$(scripts/s3-test-server.sh start)"   # installs if needed, starts, waits, exports
#   go test ./storage/ ./cmd/...                # the S3 tests run
#   scripts/s3-test-server.sh stop
#
# The binary is built once from the Go module proxy into
# ${CDNSERVE_TOOLS:-$HOME/.cache/cdnserve/bin} (about 80 s) and reused.
set -euo pipefail
VERSION=v1.8.0
TOOLS=${CDNSERVE_TOOLS:-$HOME/.cache/cdnserve/bin}
STATE=${CDNSERVE_S3_STATE:-/tmp/cdnserve-s3}
PORT=${CDNSERVE_S3_PORT:-7070}
ACCESS=cdnserve-test
SECRET=cdnserve-test-secret

start() {
  if [ ! -x "$TOOLS/versitygw" ]; then
    echo "installing versitygw $VERSION into $TOOLS (once)" >&2
    mkdir -p "$TOOLS"
    GOBIN="$TOOLS" go install "github.com/versity/versitygw/cmd/versitygw@$VERSION" >&2
  fi
  stop >/dev/null 2>&1 || true
  # The posix backend keeps object metadata in user xattrs, which ext4
  # (the local disk here) has. Each run starts from an empty store.
  rm -rf "$STATE/data"
  mkdir -p "$STATE/data"
  "$TOOLS/versitygw" --port "127.0.0.1:$PORT" --access "$ACCESS" --secret "$SECRET" --quiet posix "$STATE/data" \
    >"$STATE/versitygw.log" 2>&1 &
  echo $! >"$STATE/pid"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      cat <<ENV
export CDNSERVE_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=$ACCESS
export AWS_SECRET_ACCESS_KEY=$SECRET
export AWS_REGION=us-east-1
ENV
      return 0
    fi
    sleep 0.1
  done
  echo "versitygw did not listen on 127.0.0.1:$PORT within 10 s:" >&2
  cat "$STATE/versitygw.log" >&2
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
