// Package whip serves WebRTC over HTTP: WHIP ingest (RFC 9725), which
// OBS 30 and later and GStreamer's whip-client speak, and WHEP playback
// (draft-ietf-wish-whep-04, the client's offer). A WHEP player is a
// watcher of its room that makes its own offer (talk_request {offer}):
// the server hands it to the room's relay, which answers it and serves it
// as watch.html, in the same cap. A WHIP publisher is
// its room's talker: the endpoint enters the room for it in the server's
// own process (package local), as a talker that serves the room's relay
// alone (talk_ready {relayed: true}); the relay, started at once, takes
// the publisher's SDP offer as any talker's (with every candidate of its
// own in the answer: a WHIP client hears none trickled) and serves the
// room's watchers, watch.html and the Go watcher alike.
//
// # Endpoints
//
//   - POST /whip/{room}, an SDP offer (application/sdp) with, in a keyed
//     server, the room's talk key as a bearer token (RFC 6750): 201 Created
//     with the SDP answer, the session's URL in Location, its ICE servers
//     (TURN credentials among them) in Link headers (RFC 9725 §4.4) and
//     its entity tag in ETag.
//   - PATCH on the session's URL, trickled candidates of the publisher's
//     (application/trickle-ice-sdpfrag, RFC 8840): 204 No Content. An ICE
//     restart (a new ice-ufrag) is not supported: 422, and the publisher
//     publishes again.
//   - DELETE on the session's URL ends the broadcast: 200 OK.
//   - POST /whep/{room}, a player's SDP offer (receive only), a watch key
//     as bearer token in a private room: 201 Created as for WHIP; PATCH
//     and DELETE on its URL likewise. 404 when nothing is on air, 503 when
//     the relay serves its most watchers.
//
// Errors carry a JSON body {code, message} with a stable code (see
// errors.go): 400 bad SDP or room name, 401 no token where one is needed,
// 403 a token that is not the room's, 404 no such session, 409 the room
// has a talker, 413 an offer too large, 415 another content type, 422 an
// offer the relay cannot take (nothing sent, no codec it forwards), 429
// too many sockets from the address, 503 no relay (the server runs
// -relay off, or its relays are all taken) or the server draining.
//
// # Where the design comes from
//
// Broadcast Box and MediaMTX answer WHIP with an in-process PeerConnection
// of their own; here the publisher goes through the protocol's talker
// role, so that keys, room limits, the cluster's one talker per room and
// the relay's watcher handling stay written once.
package whip
