#!/usr/bin/env bash
# Room fan-out of this server against the classic Node socket.io@2
# signalingServer.js, on this machine, with one load driver
# (BenchmarkWebSocketFanout: 20 rooms x 10 sockets, 1 KB messages).
# Both servers run as their own processes and are measured alternately.
#   bench/compare.sh [rounds]      (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
msgs=${MSGS:-100000}

make -s build
(cd bench/classic && npm ci --no-audit --no-fund --silent)
go test -c -o bin/signaling.test ./signaling/

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ms() { awk '{print ($14+$15)*10}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

gp=$(port); np=$(port)
# A load test comes from one address at full speed: lift the per-socket rate
# and per-address socket limits that would refuse it.
bin/broadcast -addr 127.0.0.1:$gp -metrics-addr off -log-level warn -rate 1e9 -rate-burst 1000000000 -max-addr-sockets 1000000 -max-sockets 1000000 & gpid=$!
node bench/classic/signalingServer.js $np >/dev/null & npid=$!
trap 'kill $gpid $npid 2>/dev/null' EXIT
for p in $gp $np; do
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done

server() { if [ "$1" = go ]; then pid=$gpid; p=$gp; else pid=$npid; p=$np; fi; }

echo "memory per idle socket (2000 sockets, 10 to a room; server's RSS growth):"
for s in go node; do
  server $s
  BENCH_URL=http://127.0.0.1:$p BENCH_PID=$pid bin/signaling.test -test.run '^$' -test.bench IdleConnection -test.benchtime 2000x \
    | awk -v s=$s '/^BenchmarkIdleConnection/ {print "  " s ": " $5 " KB"}'
done

echo "room fan-out, alternating rounds of ${msgs} messages (x9 deliveries):"
printf '%-6s %-5s %12s %8s %8s %15s %7s\n' server round deliveries/s p50-ms p99-ms cpu-us/delivery rss-MB
for r in $(seq "$rounds"); do
  for s in go node; do
    server $s
    before=$(cpu_ms $pid)
    line=$(BENCH_URL=http://127.0.0.1:$p bin/signaling.test -test.run '^$' -test.bench WebSocketFanout -test.benchtime ${msgs}x | grep '^BenchmarkWebSocketFanout')
    after=$(cpu_ms $pid)
    set -- $line
    printf '%-6s %-5s %12s %8s %8s %15s %7s\n' $s $r $5 $7 $9 \
      "$(awk -v c=$((after-before)) -v n=$((msgs*9)) 'BEGIN{printf "%.2f", c*1000/n}')" \
      "$(awk -v k=$(rss_kb $pid) 'BEGIN{printf "%.0f", k/1024}')"
  done
done
