// The watch page's player: the video's controls (sound, picture-in-picture,
// fullscreen, with the keys m, p and f), the quality being received, and
// the page's state shown over the video (the status element, styled by its
// data-kind). The stream starts muted, as browsers require for autoplay;
// one tap on the sound button unmutes it.

import { layers } from './common.js';

const $ = (id) => document.getElementById(id);

// player wires the controls inside the element #player around video, and
// returns {showQuality, showLayer, showOnAir}. showOnAir(since) shows how
// long the broadcast has run, from since (a performance.now() time), beside
// the live badge; null hides it. showQuality(q) shows what is received:
// {width, height, fps, bitrate (bits/s)}, or null while nothing is.
// showLayer(l) shows the relay's layer message l ({layers, current, pin,
// paused}; null without one): the quality choice, Auto and each layer,
// highest first, when there is more than one, and a notice over the video
// while it is paused. Choosing calls onPin(name).
export function player(video, { onPin = () => {} } = {}) {
  const box = $('player');
  const sound = $('unmute');
  const volume = $('volume');
  const pip = $('pip');
  const full = $('fullscreen');
  const qualityEl = $('quality');
  const layerBox = $('quality-box');
  const layerSel = $('quality-choice');
  const pausedEl = $('paused');
  const elapsedEl = $('elapsed');
  layerSel.addEventListener('change', () => onPin(layerSel.value));

  const showSound = () => {
    const label = video.muted ? 'Unmute' : 'Mute';
    sound.setAttribute('aria-pressed', String(!video.muted && video.volume > 0));
    sound.textContent = label;
    sound.title = `${label} (m)`;
    volume.value = String(video.muted ? 0 : video.volume);
  };
  // A muted video may have been paused by the browser: play it once heard.
  const playHeard = () => { if (!video.muted) video.play().catch(() => {}); };
  const toggleSound = () => {
    video.muted = !video.muted;
    if (!video.muted && video.volume === 0) video.volume = 1;
    playHeard();
  };
  sound.addEventListener('click', toggleSound);
  volume.addEventListener('input', () => {
    video.volume = Number(volume.value);
    video.muted = video.volume === 0;
    playHeard();
  });
  video.addEventListener('volumechange', showSound);

  // Picture-in-picture and fullscreen, where the browser has them.
  pip.hidden = !document.pictureInPictureEnabled;
  const togglePip = () => {
    if (document.pictureInPictureElement) document.exitPictureInPicture().catch(() => {});
    else if (video.readyState >= 1) video.requestPictureInPicture().catch(() => {});
  };
  pip.addEventListener('click', togglePip);
  video.addEventListener('enterpictureinpicture', () => pip.setAttribute('aria-pressed', 'true'));
  video.addEventListener('leavepictureinpicture', () => pip.setAttribute('aria-pressed', 'false'));
  full.hidden = !document.fullscreenEnabled;
  const toggleFull = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else box.requestFullscreen().catch(() => {});
  };
  full.addEventListener('click', toggleFull);
  document.addEventListener('fullscreenchange', () => {
    const on = document.fullscreenElement === box;
    full.setAttribute('aria-pressed', String(on));
    full.textContent = on ? 'Exit fullscreen' : 'Fullscreen';
  });

  // Keys, but not while typing or with a modifier.
  addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.target instanceof HTMLInputElement) return;
    const act = { m: toggleSound, p: togglePip, f: toggleFull }[ev.key.toLowerCase()];
    if (!act) return;
    ev.preventDefault();
    act();
  });
  showSound();

  const title = (name) => name.charAt(0).toUpperCase() + name.slice(1);
  const showLayer = (l) => {
    const choice = (l?.layers?.length ?? 0) > 1;
    layerBox.hidden = !choice;
    pausedEl.hidden = !l?.paused;
    if (!choice) return;
    const names = [layers.auto, ...[...l.layers].reverse()];
    if (layerSel.options.length !== names.length || [...layerSel.options].some((o, i) => o.value !== names[i])) {
      layerSel.replaceChildren(...names.map((n) => new Option(title(n), n)));
    }
    const now = l.paused ? 'paused' : l.current;
    layerSel.options[0].textContent = now ? `Auto (${now})` : 'Auto';
    layerSel.value = l.pin || layers.auto;
  };

  const showQuality = (q) => {
    qualityEl.hidden = !q;
    if (!q) return;
    const parts = [];
    if (q.width && q.height) parts.push(`${q.width}×${q.height}`);
    if (q.fps) parts.push(`${Math.round(q.fps)} fps`);
    if (q.bitrate) parts.push(q.bitrate >= 1e6 ? `${(q.bitrate / 1e6).toFixed(1)} Mbit/s` : `${Math.round(q.bitrate / 1e3)} kbit/s`);
    qualityEl.textContent = parts.join(' · ');
  };
  // h:mm:ss past an hour, m:ss below.
  const clock = (ms) => {
    const t = Math.max(0, Math.floor(ms / 1000));
    const [h, m, sec] = [Math.floor(t / 3600), Math.floor(t / 60) % 60, t % 60];
    const pad = (n) => String(n).padStart(2, '0');
    return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  };
  let onAirSince = null;
  const tick = () => {
    elapsedEl.hidden = onAirSince === null;
    if (onAirSince === null) return;
    const text = clock(performance.now() - onAirSince);
    if (elapsedEl.textContent !== text) elapsedEl.textContent = text;
    elapsedEl.setAttribute('aria-label', `on air for ${text}`);
  };
  setInterval(tick, 1000);
  const showOnAir = (since) => {
    onAirSince = since;
    tick();
  };

  return { showQuality, showLayer, showOnAir };
}
