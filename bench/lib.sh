# Sourced by the bench scripts: a temporary directory $tmp removed on exit
# with every process in pids killed, test media made with ffmpeg, and free
# ports on loopback.

tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# make_media GOP: $tmp/v.ivf, 20 s of 640x480 VP8 at 30 fps (~1 Mbit/s)
# with a keyframe every GOP frames, and $tmp/a.ogg, 20 s of Opus.
make_media() {
  ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=640x480:rate=30 -t 20 -pix_fmt yuv420p \
    -c:v libvpx -b:v 1M -g "$1" -deadline realtime "$tmp/v.ivf"
  ffmpeg -hide_banner -loglevel error -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 \
    -c:a libopus -page_duration 20000 "$tmp/a.ogg"
}

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
udpport() { python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'; }
