#!/usr/bin/env bash
# Stands in for the parley binary (PARLEY_BINARY) so that the integration and conformance suites
# run against one node in cluster mode: the real binary ($PARLEY_CLUSTER_BINARY) with
# --cluster-redis pointing at a Redis of this server's own.
#
# The Redis is private (a free loopback port, no persistence), not one shared by every test:
# servers of tests that ctest runs at the same time (-j) would otherwise meet as one cluster and
# see each other's clients. It gets SIGKILL when the server ends (setpriv --pdeathsig: its
# parent is this process, which becomes the server by exec), so a server killed with -9 by its
# test leaves nothing behind, and the server's PID is the one the test started.
set -euo pipefail
real="${PARLEY_CLUSTER_BINARY:?set PARLEY_CLUSTER_BINARY to the real parley binary}"

case "${1:-}" in
  ""|-*) ;;                 # a server run: flags only (or none)
  *) exec "$real" "$@" ;;   # a subcommand (token, store, config) or nothing: as it is
esac

# A node of a cluster refuses the default store, SQLite (a file per node would split the
# history): without --store (or a config file that may set it) it runs with none, as a
# cluster without a store does.
store=(--store none)
for arg in "$@"; do
  case "$arg" in --store|--store=*|--config|--config=*) store=() ;; esac
done

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setpriv --pdeathsig KILL redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir /tmp --daemonize no </dev/null >/dev/null 2>&1 &
for _ in $(seq 100); do  # up to 5 s; it answers in a few ms
  if [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == PONG ]]; then
    exec "$real" --cluster-redis "redis://127.0.0.1:$port" --node-id one-node "${store[@]}" "$@"
  fi
  sleep 0.05
done
echo "one_node.sh: redis-server on port $port did not answer within 5 s" >&2
exit 1
