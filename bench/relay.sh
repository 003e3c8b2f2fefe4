#!/usr/bin/env bash
# The relay's cost per watcher and its speed of joining, with one Go talker
# (`broadcast talk`, its own process) and light Go watchers (`broadcast
# bench`, package loadtest/media, all in another process). Media: 640x480
# VP8 at 30 fps (~1 Mbit/s, a keyframe every 2 s) and Opus, made with ffmpeg.
#
#   steady:   `broadcast serve -relay always -relay-udp-port P` (one ICE port,
#             as deployed: docker-compose.yml); for each count N, N watchers
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
# Each steady count runs on a fresh server (memory is measured best there).
# Environment: SCENARIOS (default "steady join sequence"); STEADY, the
# window (default 10s); PROFILE=N takes a 20 s CPU profile and a heap
# profile of the server in a steady run with N watchers first (written to
# relay-N.pprof and relay-N.heap in PROFILE_DIR, default /tmp); SERVE_FLAGS adds flags to every server; BIN, the broadcast
# binary serving and talking (default bin/broadcast), for another build's
# figures; the watchers are always bin/broadcast's.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=$(echo "${*:-50 100 200 400}" | tr ' ' ',')
scenarios=${SCENARIOS:-steady join sequence}

make -s build
bin=${BIN:-bin/broadcast} # server and talker
bench=bin/broadcast       # watchers
. bench/lib.sh
make_media 60

# serve FLAGS...: starts a server and a talker on air in room bench; sets
# url, server, metrics.
serve() {
  local port
  port=$(freeport); metrics=$(freeport)
  url=http://127.0.0.1:$port
  # shellcheck disable=SC2086
  $bin serve -addr 127.0.0.1:$port -metrics-addr 127.0.0.1:$metrics -pprof -log-level warn \
    -max-addr-sockets 1000 ${SERVE_FLAGS:-} "$@" & server=$!
  pids+=($server)
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  $bin talk -server $url -room bench -video "$tmp/v.ivf" -audio "$tmp/a.ogg" -log-level warn & pids+=($!)
  sleep 1 # let it go on air (the watchers ask again until it is)
}

# stop: the talker first, then the server (it would log the server's loss).
stop() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; wait "${pids[$i]}" 2>/dev/null || true; done
  pids=()
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $scenarios; do
  case $s in
  steady)
    echo "## steady (-relay always), ${STEADY:-10s} window"
    if [ -n "${PROFILE:-}" ]; then
      # The profile's run first, alone: 20 s once every watcher is live.
      serve -relay always -relay-max-watchers 1000 -relay-udp-port "$(udpport)"
      prof=${PROFILE_DIR:-/tmp}/relay-$PROFILE.pprof
      $bench bench -url $url -pid $server -scenarios steady -counts "$PROFILE" -steady 21s \
        -profile "$prof" -heap-profile "${prof%.pprof}.heap" -profile-from http://127.0.0.1:$metrics
      echo "profiles: $prof, ${prof%.pprof}.heap (go tool pprof -top $bin $prof)"
      stop
    fi
    first=1
    for n in ${counts//,/ }; do
      serve -relay always -relay-max-watchers 1000 -relay-udp-port "$(udpport)"
      if [ $first = 1 ]; then
        $bench bench -url $url -pid $server -scenarios steady -counts "$n" -steady "${STEADY:-10s}"
      else
        $bench bench -url $url -pid $server -scenarios steady -counts "$n" -steady "${STEADY:-10s}" | sed 1d
      fi
      first=0
      stop
    done ;;
  join)
    serve -relay always -relay-max-watchers 1000 -relay-udp-port "$(udpport)"
    echo "## join (-relay always)"
    $bench bench -url $url -scenarios join -together 1,8 -joins 20
    stop ;;
  sequence)
    serve
    echo "## sequence (default flags)"
    $bench bench -url $url -scenarios sequence -marks 11,50,200
    stop ;;
  esac
done
