#!/usr/bin/env bash
# Starts versitygw, a real S3 gateway with a posix backend, for the S3
# integration tests, and prints the environment the tests read:
#
#   eval "$(scripts/s3-test-server.sh start)"   # installs if needed, starts, waits, exports
#   go test ./storage/ ./cmd/...                # the S3 tests run
#   scripts/s3-test-server.sh stop
#
# It creates the bucket named by CDNSERVE_TEST_S3_BUCKET (default
# "cdnserve"), for trying cdnserve by hand against
# s3://cdnserve/...?endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true;
# the tests make a bucket of their own each.
#
# Settings (environment variables; the README lists them too):
#   CDNSERVE_TOOLS_ROOT  where tools are installed     ($HOME/.cache/cdnserve; versitygw in bin/)
#   CDNSERVE_S3_PORT     the port on 127.0.0.1         (7070)
#   CDNSERVE_S3_STATE    the store and the log         (/tmp/cdnserve-s3)
#   CDNSERVE_TEST_S3_BUCKET  the bucket to create      (cdnserve)
#
# The binary is built once from the Go module proxy (about 80 s) and
# reused.
set -euo pipefail
VERSION=v1.8.0
TOOLS=${CDNSERVE_TOOLS_ROOT:-$HOME/.cache/cdnserve}/bin
STATE=${CDNSERVE_S3_STATE:-/tmp/cdnserve-s3}
PORT=${CDNSERVE_S3_PORT:-7070}
BUCKET=${CDNSERVE_TEST_S3_BUCKET:-cdnserve}
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
      # The bucket: one signed PUT (curl signs with SigV4; it does not
      # add x-amz-content-sha256 itself).
      curl -fsS -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS:$SECRET" \
        -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
        -X PUT "http://127.0.0.1:$PORT/$BUCKET" >&2 || { echo "creating the bucket $BUCKET failed (see $STATE/versitygw.log)" >&2; exit 1; }
      cat <<ENV
export CDNSERVE_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT
export CDNSERVE_TEST_S3_BUCKET=$BUCKET
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
