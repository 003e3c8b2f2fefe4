#!/usr/bin/env bash
# The relay's cost per watcher and its speed of joining, with one Go talker
# (`broadcast talk`, its own process) and light Go watchers (`broadcast
# bench`, package loadtest/media, all in another process). Media: 640x480
# VP8 at 30 fps (~1 Mbit/s, a keyframe every 2 s) and Opus, made with ffmpeg.
#
#   steady:   `broadcast serve -relay always`; for each count N, N watchers
#             join, then over a 10 s window: the server's CPU time per
#             watcher per second of video, its resident memory per watcher
#             (with N less before), video loss, frame rates (min, median),
#             times to first frame (p50, p95) and the load average.
#   join:     same server; 20 joins of 1 watcher at a time, and of 8 at once:
#             time to first frame p50/p95.
#   sequence: `broadcast serve` with the default flags (what `make run`
#             runs: -max-watchers 10, -relay auto), but -max-addr-sockets
#             1000 as every watcher comes from 127.0.0.1; 200 watchers
#             join one after another: the 11th's (the relay's first), 50th's
#             and 200th's time to first frame.
#
#   bench/relay.sh [counts...]     (default: 50 100 200 400)
# Environment: SCENARIOS (default "steady join sequence"); PROFILE=N takes a
# 20 s CPU profile of the server during the steady run with N watchers
# (written to bench/relay-N.pprof); SERVE_FLAGS adds flags to both servers.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=$(echo "${*:-50 100 200 400}" | tr ' ' ',')
scenarios=${SCENARIOS:-steady join sequence}

make -s build
tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=640x480:rate=30 -t 20 -pix_fmt yuv420p \
  -c:v libvpx -b:v 1M -g 60 -deadline realtime "$tmp/v.ivf"
ffmpeg -hide_banner -loglevel error -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 \
  -c:a libopus -page_duration 20000 "$tmp/a.ogg"

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve FLAGS...: starts a server and a talker on air in room bench; sets
# url, server, metrics.
serve() {
  local port
  port=$(freeport); metrics=$(freeport)
  url=http://127.0.0.1:$port
  # shellcheck disable=SC2086
  bin/broadcast serve -addr 127.0.0.1:$port -metrics-addr 127.0.0.1:$metrics -pprof -log-level warn \
    -max-addr-sockets 1000 ${SERVE_FLAGS:-} "$@" & server=$!
  pids+=($server)
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  bin/broadcast talk -server $url -room bench -video "$tmp/v.ivf" -audio "$tmp/a.ogg" -log-level warn & pids+=($!)
  sleep 1 # let it go on air (the watchers ask again until it is)
}

stop() { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; pids=(); }

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $scenarios; do
  case $s in
  steady)
    serve -relay always -relay-max-watchers 1000
    echo "## steady (-relay always), ${STEADY:-10s} window"
    if [ -n "${PROFILE:-}" ]; then
      # The profile's run first, alone, then every count.
      (bin/broadcast bench -url $url -pid $server -scenarios steady -counts "$PROFILE" -steady 30s >/dev/null &
       sleep 12; curl -s -o "bench/relay-$PROFILE.pprof" "http://127.0.0.1:$metrics/debug/pprof/profile?seconds=20"; wait)
      echo "profile: bench/relay-$PROFILE.pprof (go tool pprof -top bin/broadcast bench/relay-$PROFILE.pprof)"
    fi
    bin/broadcast bench -url $url -pid $server -scenarios steady -counts "$counts" -steady "${STEADY:-10s}"
    stop ;;
  join)
    serve -relay always -relay-max-watchers 1000
    echo "## join (-relay always)"
    bin/broadcast bench -url $url -scenarios join -together 1,8 -joins 20
    stop ;;
  sequence)
    serve
    echo "## sequence (default flags)"
    bin/broadcast bench -url $url -scenarios sequence -marks 11,50,200
    stop ;;
  esac
done
