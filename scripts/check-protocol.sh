#!/usr/bin/env bash
# Runs ../shared/peers/check.py (the protocol check every peer passes) against a Parley binary
# started on a free port with short ping settings. Usage: check-protocol.sh PARLEY_BINARY
set -euo pipefail
binary="$1"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
check="$repo_root/../shared/peers/check.py"
if [ ! -f "$check" ]; then
  echo "check.py not found at $check (it ships in the shared/ folder beside the repo): skipped"
  exit 0
fi
log=$(mktemp)
# check.py is the protocol v1 check: no store (offline errors, no inbox frame).
"$binary" --port 0 --threads 2 --store none --ping-interval 1 --ping-timeout 2 --log-level info >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 100); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$log"; echo "parley did not start"; exit 1; }
timeout 300 /usr/bin/python3 "$check" "ws://127.0.0.1:$port" --liveness 8
