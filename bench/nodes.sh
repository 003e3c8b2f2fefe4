#!/usr/bin/env bash
# Three nodes sharing rooms through Redis, every room spread over them,
# against the classic Node socket.io@2 signalingServer.js, with the
# project's load command (`broadcast bench`), alternating rounds.
#   bench/nodes.sh [rounds]       (default 3; needs redis-server)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}

make -s build
(cd bench/classic && npm ci --no-audit --no-fund --silent)

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# A load test comes from one address at full speed: lift the per-socket
# rate and per-address socket limits that would refuse it.
limits=(-log-level warn -rate 1e9 -rate-burst 1000000000 -max-addr-sockets 1000000 -max-sockets 1000000 -max-room-sockets 1000)

pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
rp=$(port)
redis-server --bind 127.0.0.1 --port "$rp" --save "" --appendonly no >/dev/null & pids+=($!)
ports=("$rp")
urls=()
for _ in 1 2 3; do
  p=$(port)
  bin/broadcast -addr "127.0.0.1:$p" -metrics-addr off -redis "redis://127.0.0.1:$rp/0" "${limits[@]}" & pids+=($!)
  ports+=("$p"); urls+=("http://127.0.0.1:$p")
done
np=$(port)
node bench/classic/signalingServer.js "$np" >/dev/null & pids+=($!)
ports+=("$np")
for p in "${ports[@]}"; do
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
done

bin/broadcast bench -url "$(IFS=,; echo "${urls[*]}")" -compare "http://127.0.0.1:$np" \
  -scenarios "${SCENARIOS:-fanout,handshake,churn}" -rounds "$rounds"
