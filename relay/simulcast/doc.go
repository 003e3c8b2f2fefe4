// Package simulcast chooses, for one watcher of a simulcast talker, which
// layer (encoding, named by its rid) the relay forwards: the highest whose
// bitrate the watcher's link carries, from its bandwidth estimate (bits/s)
// and its loss, with hysteresis so that a stable link does not flap.
//
// The rules (Selector.Update):
//   - Audio first: the estimate, scaled by Config.Headroom, pays for audio
//     (Config.AudioBitrate) before video. Below the lowest layer's bitrate
//     the video is Paused; the audio goes on.
//   - Down at once: when the budget no longer carries the current layer,
//     the selector moves to the highest layer it carries.
//   - Up slowly, one layer at a time: only once the budget has carried the
//     next layer with Config.UpMargin to spare for Config.UpAfter, the time
//     starting over at each move. The first estimate may go straight to
//     any layer: there is no history to be wary of.
//   - Loss over Config.LossDown steps down one layer, never to Paused
//     (loss alone is no proof of congestion), and bars moving up.
//   - A pinned layer (Pin) is kept whatever the estimate, but for Paused:
//     audio first holds for pinned watchers too.
//   - Probes (Config.ProbeAfter): an estimate the receiver makes (REMB,
//     from a browser's receive-side estimator) grows at most about half
//     as much again as what the receiver gets, so a watcher on a low
//     layer never reports room for the next by itself. After a layer has
//     held with no loss for the probe wait, the selector tries the next
//     layer up for Config.ProbeFor: loss or a falling estimate ends the
//     probe at once, and at its end the budget must carry the layer. A
//     failed probe doubles the wait (up to Config.ProbeMax), a good one
//     resets it; a link that carries the highest layer never probes, so a
//     stable free link never switches.
//
// The relay switches a watcher only at a keyframe of the target layer;
// the selector says which layer, not when the switch happens.
package simulcast
