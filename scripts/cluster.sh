#!/usr/bin/env bash
# A whole Parley cluster on this machine: Redis and PostgreSQL in a temporary folder
# (tests/services/services.py), three nodes on 127.0.0.1, and HAProxy in front on one port
# (WebSocket-aware, health-checked through /healthz, the client's address passed to the nodes
# with PROXY protocol v2). Prints the chat URL; Ctrl-C (or SIGTERM) stops everything it started,
# by PID, and removes the folder.
#
#   scripts/cluster.sh                      # chat on http://127.0.0.1:8080/
#   scripts/cluster.sh --port 9090 --nodes 2 -- --admin-token secret   # flags after -- go to every node
#
# Installs what is missing (as scripts/start.sh does) and builds into build/, unless
# PARLEY_BINARY names a parley to run. PARLEY_CLUSTER_PORT sets the default of --port.
# HAProxy connects to the nodes from 127.0.0.2, the one address the nodes trust for PROXY headers
# (--trusted-proxies 127.0.0.2/32): a client on this machine (127.0.0.1) can still reach a node
# directly, as the /healthz URLs printed show, and cannot claim another address.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

front_port="${PARLEY_CLUSTER_PORT:-8080}"  # beside start.sh's 8000, so both can run at once
nodes=3
node_flags=()
while (($#)); do
  case "$1" in
    --port) front_port="$2"; shift 2 ;;
    --nodes) nodes="$2"; shift 2 ;;
    --) shift; node_flags=("$@"); break ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$front_port" =~ ^[0-9]+$ && "$nodes" =~ ^[1-9]$ ]] || {
  echo "cluster.sh: --port takes a number, --nodes 1 to 9" >&2
  exit 2
}

proxy_source=127.0.0.2   # HAProxy's address towards the nodes; the only one they trust
start_timeout=30         # seconds for a node, or HAProxy's view of every node, to come up
stop_timeout=10          # seconds a process has after SIGTERM before SIGKILL

apt_need "${build_packages[@]}" haproxy redis-server postgresql-15 python3 curl
root_traversable
# PARLEY_BINARY: a parley built elsewhere (the tests' own); otherwise build/ is brought up to date.
parley="${PARLEY_BINARY:-}"
if [ -z "$parley" ]; then
  configure_and_build "$repo_root/build" -DCMAKE_BUILD_TYPE=Release -DPARLEY_BUILD_TESTS=OFF \
    -DPARLEY_BUILD_BENCH=OFF -- parley >/dev/null
  parley="$repo_root/build/parley"
fi

work=$(mktemp -d /tmp/parley-cluster.XXXXXX)
chmod 755 "$work"  # PostgreSQL runs as `postgres` when we are root, and must reach its dir
pids=()            # nodes and HAProxy, in start order
services_up=false

# Stops what this script started, newest first (HAProxy, then the nodes), then the services,
# then removes the folder.
stop_all() {
  trap - INT TERM EXIT
  local pid i deadline
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  deadline=$((SECONDS + stop_timeout))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if $services_up; then
    python3 "$repo_root/tests/services/services.py" down "$work/services" >/dev/null || true
  fi
  rm -rf "$work"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

fail() {
  echo "cluster.sh: $*" >&2
  exit 1
}

# Redis (the nodes' shared routes) and PostgreSQL (the shared store), from tests/services.
python3 "$repo_root/tests/services/services.py" up "$work/services" >/dev/null ||
  fail "Redis and PostgreSQL did not start"
services_up=true
read -r redis_url postgres_url services_pids < <(python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(s["redis_url"], s["postgres_url"], "%d, %d" % (s["redis_pid"], s["postgres_pid"]))' \
  "$work/services/services.json")
store=(--store postgres --postgres-url "$postgres_url")  # the nodes share one store

# start_node N: node N on a free port (read from its log); its PID appended to pids.
node_ports=()
start_node() {
  local n="$1" log="$work/node$1.log" deadline port=""
  # The pages: the binary's own (build/web beside it, with the client library in lib/).
  local flags=(--host 127.0.0.1 --port 0 --trusted-proxies "$proxy_source/32"
    --cluster-redis "$redis_url" --node-id "node$n" "${store[@]}")
  : >"$log"  # before the background job opens it: the loop below reads it at once
  setsid "$parley" "${flags[@]}" "${node_flags[@]}" >"$log" 2>&1 &
  pids+=($!)
  deadline=$((SECONDS + start_timeout))
  while :; do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || fail "node$n exited: $(tail -n 5 "$log")"
    ((SECONDS < deadline)) || fail "node$n did not listen within ${start_timeout}s"
    sleep 0.1
  done
  node_ports+=("$port")
}

# HAProxy's configuration: one HTTP front, the nodes behind it. leastconn, not roundrobin: a
# WebSocket stays for hours, so what must even out is the connections each node holds (after a
# node restarts, roundrobin would keep it emptier than the rest for as long as they last).
write_haproxy_config() {
  local n
  cat <<CFG
global
  # maxconn is left to HAProxy: it derives it from the open-file limit
  log stderr format raw local0 info

defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  # An upgraded connection is a tunnel: Parley's pings (every 10 s) keep it busy, and this
  # bounds one whose peer vanished without a FIN.
  timeout tunnel 1h
  timeout http-request 10s

frontend chat
  bind 127.0.0.1:$front_port
  # HAProxy's own page: which nodes are up (local clusters only; not for a public port)
  stats enable
  stats uri /haproxy-stats
  default_backend nodes

backend nodes
  balance leastconn
  option httpchk GET /healthz
  http-check expect status 200
  # Every connection to a node, checks too, opens with a PROXY v2 header (LOCAL for checks).
  source $proxy_source
  default-server check inter 1s fall 2 rise 1 send-proxy-v2
CFG
  for ((n = 1; n <= nodes; n++)); do
    echo "  server node$n 127.0.0.1:${node_ports[n - 1]}"
  done
}

# Waits until HAProxy's page lists every node UP (its health checks passed through PROXY v2).
wait_all_up() {
  local deadline=$((SECONDS + start_timeout)) up
  while :; do
    up=$(curl -fsS "http://127.0.0.1:$front_port/haproxy-stats;csv" 2>/dev/null |
      grep -c '^nodes,node[0-9]*,.*,UP,' || true)
    ((up == nodes)) && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || fail "HAProxy exited: $(tail -n 5 "$work/haproxy.log")"
    ((SECONDS < deadline)) || fail "HAProxy saw $up of $nodes nodes up after ${start_timeout}s"
    sleep 0.2
  done
}

for ((n = 1; n <= nodes; n++)); do start_node "$n"; done
write_haproxy_config >"$work/haproxy.cfg"
haproxy -c -q -f "$work/haproxy.cfg" || fail "haproxy.cfg is invalid ($work/haproxy.cfg)"
setsid haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
wait_all_up

echo "Parley cluster: $nodes nodes behind HAProxy, routes in Redis, store: ${store[1]}"
echo "  chat:    http://127.0.0.1:$front_port/"
for ((n = 1; n <= nodes; n++)); do
  echo "  node$n:   http://127.0.0.1:${node_ports[n - 1]}/healthz   (pid ${pids[n - 1]}, log: $work/node$n.log)"
done
echo "  HAProxy: http://127.0.0.1:$front_port/haproxy-stats   (pid ${pids[-1]}, log: $work/haproxy.log)"
echo "  Redis:   $redis_url   PostgreSQL: $postgres_url   (pids $services_pids)"
echo "Ctrl-C stops it all."

# Until a signal comes, or one of them stops by itself (then the rest is stopped too).
while :; do
  wait -n "${pids[@]}" || true
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "process $pid stopped by itself; stopping the cluster"
  done
done
