#!/usr/bin/env bash
# Cost of one Go talker (`broadcast talk`) per watcher: for 1, 10 and 50 Go
# watchers (`broadcast watch`, each its own process), the talker process's
# CPU time per watcher per second of video, and its resident memory per
# watcher, over a 10 s window once every watcher is live. Media: 640x480
# VP8 at 30 fps (~1 Mbit/s) and Opus, made with ffmpeg.
#   bench/talker.sh [counts...]      (default: 1 10 50)
set -euo pipefail
cd "$(dirname "$0")/.."
counts=${*:-1 10 50}
window=10

make -s build
. bench/lib.sh
make_media 30

port=$(freeport)
url=http://127.0.0.1:$port
bin/broadcast -addr 127.0.0.1:$port -metrics-addr off -log-level warn -max-addr-sockets 1000 & pids+=($!)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
bin/broadcast talk -server $url -room bench -video "$tmp/v.ivf" -audio "$tmp/a.ogg" -max-watchers 100 -log-level warn & talker=$!
pids+=($talker)
sleep 1 # let it go on air

cpu_ms() { awk '{print ($14+$15)*10}' /proc/$talker/stat; }
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$talker/status; }

printf '%9s %22s %18s %14s\n' watchers cpu-ms/watcher/second rss-KB/watcher talker-rss-MB
for n in $counts; do
  base_rss=$(rss_kb)
  wpids=()
  for i in $(seq "$n"); do
    bin/broadcast watch -server $url -room bench -duration $((window + 30))s >/dev/null 2>"$tmp/w$i.log" & wpids+=($!)
  done
  # Every watcher live (its log says so), bounded.
  for _ in $(seq 600); do
    live=$(cat "$tmp"/w*.log 2>/dev/null | grep -c 'msg=live' || true)
    [ "$live" -ge "$n" ] && break
    sleep 0.1
  done
  [ "$live" -ge "$n" ] || { echo "only $live of $n watchers live" >&2; exit 1; }
  c0=$(cpu_ms); sleep $window; c1=$(cpu_ms)
  rss=$(rss_kb)
  awk -v n=$n -v c=$((c1-c0)) -v w=$window -v r=$((rss-base_rss)) -v t=$rss \
    'BEGIN { printf "%9d %22.2f %18.0f %14.1f\n", n, c/w/n, r/n, t/1024 }'
  kill "${wpids[@]}" 2>/dev/null; wait "${wpids[@]}" 2>/dev/null || true
  rm -f "$tmp"/w*.log
  sleep 2 # the talker drops the watchers that left
done
