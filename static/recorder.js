// The talk page's Record button: starts and stops the room's recording on
// the server (PUT and DELETE /rooms/{room}/recording, with the room's talk
// key), and shows "REC" while the server records, as it says when asked
// (every pollMs while on air: a recording also starts and stops by HTTP,
// and a full disk stops it).

// pollMs is how often the page asks whether the room records.
export const pollMs = 3000;

// recorder wires button (aria-pressed) and badge for room with key
// (undefined in an open server); onAir() says whether the page is on
// air. It returns refresh(), which asks the server now.
export function recorder(button, badge, room, key, onAir) {
  const url = `/rooms/${encodeURIComponent(room)}/recording`;
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  let busy = false;
  const show = (state) => {
    const on = Boolean(state?.recording);
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? 'Stop recording' : 'Record';
    badge.hidden = !on;
    badge.title = state?.file ? `recording into ${state.file}` : 'recording';
  };
  const call = async (method) => {
    const res = await fetch(url, { method, headers, cache: 'no-store' });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.message || `${res.status}`);
    return body;
  };
  const refresh = async () => {
    if (busy) return;
    button.disabled = !onAir();
    if (!onAir()) { show(null); return; }
    try {
      show(await call('GET'));
    } catch (err) {
      console.warn('recording state unknown', err);
    }
  };
  button.hidden = false;
  button.addEventListener('click', async () => {
    busy = true;
    button.disabled = true;
    try {
      show(await call(button.getAttribute('aria-pressed') === 'true' ? 'DELETE' : 'PUT'));
      button.removeAttribute('data-error');
    } catch (err) {
      button.dataset.error = err.message;
      badge.hidden = true;
      console.warn('recording not switched', err);
    } finally {
      busy = false;
      button.disabled = !onAir();
    }
  });
  setInterval(refresh, pollMs);
  return refresh;
}
