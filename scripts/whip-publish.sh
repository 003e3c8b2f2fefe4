#!/usr/bin/env bash
# Publishes a test pattern (a moving ball, 640x360 at 30 frames/s, a
# keyframe a second) with noise for sound (Opus) to a WHIP endpoint, with
# Debian's whip-client (package simple-whip-client, GStreamer), until
# interrupted; on SIGINT or SIGTERM the client ends its session (DELETE).
#
#   scripts/whip-publish.sh URL [vp8|h264] [TOKEN]
#
# The tests publish with it: a WHIP client the project did not write.
set -euo pipefail

url=${1:?usage: $0 URL [vp8|h264] [TOKEN]}
codec=${2:-vp8}
token=${3:-}

here=$(cd "$(dirname "$0")" && pwd)
lib_dir="$here/../bin/whip-client" # bin/ is not committed
lib="$lib_dir/libgupnp-igd-1.0.so.4"
if [ ! -f "$lib" ] || [ "$here/whip-client-igd.c" -nt "$lib" ]; then
  mkdir -p "$lib_dir"
  gcc -shared -fPIC -Wl,-soname,libgupnp-igd-1.0.so.4 -o "$lib.$$" "$here/whip-client-igd.c"
  mv "$lib.$$" "$lib"
fi

pattern="videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert ! queue"
case "$codec" in
  vp8) video="$pattern ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ssrc=2 ! queue ! application/x-rtp,media=video,encoding-name=VP8,payload=96" ;;
  # No B-frames, a keyframe a second, constrained baseline: what a
  # browser decodes, and what the README asks of OBS.
  h264) video="$pattern ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bframes=0 ! video/x-h264,profile=constrained-baseline ! rtph264pay pt=102 ssrc=2 config-interval=-1 aggregate-mode=zero-latency ! queue ! application/x-rtp,media=video,encoding-name=H264,payload=102" ;;
  *) echo "$0: codec $codec: want vp8 or h264" >&2; exit 2 ;;
esac
audio="audiotestsrc is-live=true wave=red-noise volume=0.1 ! audioconvert ! audioresample ! queue ! opusenc perfect-timestamp=true ! rtpopuspay pt=111 ssrc=1 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111"

args=(-u "$url" -o -l 4 -A "$audio" -V "$video")
[ -n "$token" ] && args+=(-t "$token")
LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec whip-client "${args[@]}"
