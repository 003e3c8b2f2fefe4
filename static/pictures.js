// The watch page's pictures: a talker sends one video, its camera (or a
// screen shared in its place), or in lecture mode two, the camera and the
// slides it presents. The slides then play large in the main video and
// the camera in a corner; a click on the corner swaps them. While the
// talker does not present, its second video sends nothing and the camera
// plays alone.

// presentingFor is how long after the slides' last decoded frame they
// count as presented: a screen that stands still is still sent a few
// frames a second.
const presentingFor = 2500;

// pictures plays a session's tracks in main (the audio with the large
// picture) and corner (inside the button swap). It returns:
//   start(pc): a new session, whose tracks come to track(ev);
//   track(ev): an RTCTrackEvent: the audio, then the first video is the
//     camera's and the second the slides';
//   stop(): the session ended;
//   mainTrack(): the video track playing large, or null;
//   cameraTrack(): the camera's, or null.
export function pictures(main, corner, swap) {
  let s = null; // {pc, audio, camera, slides, presenting, swapped, frames, lastFrame, timer}

  // play sets el to play tracks (those not null), unless it does.
  const play = (el, tracks) => {
    const want = tracks.filter(Boolean);
    const now = el.srcObject instanceof MediaStream ? el.srcObject.getTracks() : [];
    if (want.length === now.length && want.every((t) => now.includes(t))) return;
    el.srcObject = want.length ? new MediaStream(want) : null;
  };

  const big = () => {
    if (!s) return null;
    const two = s.presenting && s.camera && s.slides;
    if (!two) return s.camera ?? s.slides;
    return s.swapped ? s.camera : s.slides;
  };

  const show = () => {
    const large = big();
    const small = s?.presenting && s.camera && s.slides ? (large === s.camera ? s.slides : s.camera) : null;
    play(main, [large, s?.audio]);
    play(corner, [small]);
    swap.hidden = !small;
    swap.setAttribute('aria-label', large === s?.camera ? 'Show the slides large' : 'Show the camera large');
  };

  // poll notes whether the slides' frames are being decoded.
  const poll = async (mine) => {
    if (!mine.slides) return;
    let frames = 0;
    (await mine.pc.getStats(mine.slides)).forEach((r) => {
      if (r.type === 'inbound-rtp') frames = r.framesDecoded ?? 0;
    });
    if (s !== mine) return;
    const now = performance.now();
    if (frames > mine.frames) Object.assign(mine, { frames, lastFrame: now });
    const presenting = now - mine.lastFrame < presentingFor;
    if (presenting !== mine.presenting) {
      mine.presenting = presenting;
      show();
    }
  };

  swap.addEventListener('click', () => {
    if (!s) return;
    s.swapped = !s.swapped;
    show();
  });

  const stop = () => {
    clearInterval(s?.timer);
    s = null;
    show();
  };

  return {
    start(pc) {
      stop();
      const mine = { pc, audio: null, camera: null, slides: null, presenting: false, swapped: false, frames: 0, lastFrame: -Infinity };
      mine.timer = setInterval(() => poll(mine).catch(() => {}), 500);
      s = mine;
    },
    track(ev) {
      if (!s) return;
      if (ev.track.kind === 'audio') s.audio = ev.track;
      else if (!s.camera) s.camera = ev.track;
      else s.slides ??= ev.track;
      show();
    },
    stop,
    mainTrack: big,
    cameraTrack: () => s?.camera ?? null,
  };
}
