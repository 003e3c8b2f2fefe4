// Package relay is the forwarding core of the server-side relay (an SFU,
// selective forwarding unit): for a room in relay mode the server is one
// more member of the room, a watcher toward the talker, receiving each of
// the talker's tracks once, and a talker toward the watchers, forwarding
// that track's RTP to each.
//
// # Pieces
//
// An Upstream is one talker track. Its Write takes each RTP packet as read
// from the talker (pion's TrackRemote.Read) once: it stores one copy in a
// ring of the track's last packets (DefaultBufferPackets, indexed by
// extended sequence number), tells once whether the packet begins a
// keyframe (internal/codec.KeyframePacket: VP8 RFC 7741, VP9 RFC 9628,
// H.264 RFC 6184), and hands it to every Downstream attached.
//
// A Downstream is one watcher's copy of one track, made from what pion's
// TrackLocal Bind gives: the watcher's SSRC, the negotiated payload type
// and the TrackLocalWriter. It rewrites each packet's SSRC and payload
// type, and maps its sequence number and timestamp through two offsets —
// never a running counter, so a reordered packet keeps its place and a
// packet from before the watcher's start is dropped rather than renumbered.
// Its states: Idle (attached to nothing), Waiting (for the first packet of
// a keyframe's frame; audio starts on any packet) and Forwarding. When it
// starts, and when it restarts (Upstream.Add again, or Add to another
// Upstream when the talker's track is replaced), the offsets are set so
// that its first packet follows the last it sent: the next sequence number,
// and a timestamp advanced by the wall-clock time between the two packets.
//
// A video Upstream configured with GOPCacheBytes keeps where its current
// group of pictures lies in its buffer: from the first packet of the
// latest keyframe's frame to the highest, while its payload is within the
// bound and its packets within the buffer (no copy). A Downstream added
// for the first time starts on it at once rather than waiting for a
// keyframe: Add sends it every packet of the group under the writer's
// lock, so the live packets follow without a gap, and asks the talker
// for nothing. Every frame from the keyframe on goes, so the watcher's
// decoder has each reference it needs. The replayed frames' timestamps
// are drawn toward the last one's (gopReplayTS), which keeps its own as
// do the live frames: the watcher's player shows the group in a moment,
// in sync with the live audio, instead of a group's length behind. A
// restart waits for a keyframe as before: the watcher decoded the group.
//
// Watchers' RTCP goes to Downstream.HandleRTCP: a PLI or FIR asks the
// Upstream for a keyframe, and the Upstream merges every watcher's asks
// (and those of watchers joining or waiting) into one request to the talker
// per DefaultKeyframeInterval. A NACK is answered from the Upstream's ring:
// each of the watcher's sequence numbers is mapped back through its offset
// to the upstream packet, which is rewritten as when first sent. A watcher's
// NACKs are untrusted: a packet is sent to it again at most once per 100 ms
// (a number named twice is sent once), within a budget of 100
// retransmissions a second per track, and written after the Downstream's
// lock is released, so that the talker's packets go on meanwhile. No packet
// is copied per watcher on the forwarding path (fan-out allocates nothing),
// where pion's default NACK responder interceptor keeps a copy of every
// packet for every watcher; watchers' PeerConnections must therefore not
// register that interceptor. Retransmissions go in the media stream itself,
// not in an RTX stream (RFC 4588).
//
// Downstream.SenderReport builds the watcher's sender report: its SSRC and
// counts, and the talker's latest mapping of RTP time to wall-clock time
// (Upstream.HandleSenderReport) moved through the watcher's timestamp
// offset, so that the watcher keeps the talker's lip sync. pion's sender
// report interceptor would instead map the time each packet left the relay,
// so watchers' PeerConnections should not register it either.
//
// Counters on both (UpstreamCounters, DownstreamCounters) are atomic
// fields a metrics layer reads at any time.
//
// # Where the design comes from
//
// The names and the split are the field's: pion's examples/broadcast
// (read a remote track once, write it to a TrackLocalStaticRTP bound to
// every watcher, which rewrites SSRC and payload type per binding);
// LiveKit's pkg/sfu, whose DownTrack (one per subscriber) holds an
// RTPMunger of sequence and timestamp offsets and a sequencer that maps
// the subscriber's numbers back to the publisher's for NACKs answered from
// the receiver's one buffer, and whose buffer throttles PLIs to the
// publisher; Broadcast Box's WHEP sessions, which wait for a keyframe
// before forwarding video to a new viewer. This package keeps one offset
// per start where LiveKit keeps a range map of offsets (it drops padding;
// the relay forwards every packet of a layer, and a simulcast switch is a
// new start, NACKs of the layer before it missed), and keeps no
// per-watcher packet metadata: the watcher's number maps to the
// upstream's by arithmetic.
//
// # Assumptions
//
// Upstream.Write calls each watcher's Writer in turn on the goroutine
// reading the talker's track, so a Writer that blocks would hold up every
// watcher after it. pion's TrackLocalWriter does not block for long: it
// runs the interceptors, encrypts with SRTP and writes one datagram to the
// ICE connection's UDP socket, which waits only while the kernel's send
// buffer is full, drained at the interface's pace, not the watcher's; a
// watcher that falls behind loses packets in the network, and NACKs them.
// On the one ICE port (Config.UDPPort) the datagram is queued instead, and
// a writer per socket sends what is queued many at a time (sendmmsg): a
// full queue waits while the writer's calls go through, and drops once
// none has for 500 ms (see batchConn).
// A Writer that may block on one watcher (a TURN relay over TCP, say)
// needs a bounded queue of its own that drops.
//
// # The relay peer
//
// A Room is one room's relay as a member of the room, over a Signal (the
// Go peers' signaling session): toward the talker a watcher (a
// talk_request, an answer, each track read once into an Upstream — at most
// one audio and two video tracks, a camera and a screen shared in lecture
// mode: the talker's other media sections are answered inactive and not
// received; a video that has not come when the watchers are served, a
// screen not shared yet, is offered them all the same and reaches them
// when it comes —, its sender reports to HandleSenderReport, its keyframe requests written as
// PLIs), toward watchers a talker (per watcher a PeerConnection whose
// tracks are watcherTracks, pion TrackLocals whose Bind makes the
// watcher's Downstream; RTCP read from each RTPSender into
// Downstream.HandleRTCP, sender reports every second). Its watchers are an
// internal/watchers Table, as the Go talker's are: the offers, the offer
// timeout, the cap, answers, candidates, bye, the phases and the reports
// passed on to the talker are written there once.
// A watcher's Downstreams are attached once its SRTP is up, and its first
// keyframe asked for until its video starts. An Engine holds the pion APIs
// and the one ICE UDP port every Room of a process shares; a Manager runs
// one Room per room on the server's request.
//
// # Simulcast
//
// A talker's video may come as simulcast layers (encodings, each with its
// rid; pion's OnTrack comes once per rid): each layer is an Upstream of
// its own, ordered lowest first by the rids of protocol.SimulcastEncodings
// (layers). A watcher gets one layer: its watcherTrack's layerChoice runs
// a simulcast.Selector on the watcher's REMB and receiver-report loss (and
// its pin, a layer message), and Downstream.Switch moves it, at the next
// keyframe of the new layer, its numbers running on as across a restart.
// A paused watcher (below the lowest layer's need) is detached from every
// layer; its audio goes on. The layers' bitrates are measured each second;
// one that stops sending is left for the nearest one still sending.
//
// # Watchers that offer, and recordings
//
// A watcher may make its own offer (talk_request {offer}: the server's
// WHEP players): the Table's AnswerOffer takes it and answers with every
// candidate gathered, and the watcher is then served as any other, in
// the same cap. A talker that takes no trickled candidate (offer
// {noTrickle}: the server's WHIP publishers) gets its answer the same
// way. Room.Record (Manager.Record) records the room into a Recording as
// into one more watcher with no PeerConnection: a Downstream per track
// recorded (the audio, and the first video at its highest layer
// sending), writing into the Recording's Writers, which must not block.
//
// # Not yet here
//
// RTX, and replacing the talker's tracks in place when it offers a new
// session (the relay ends instead, and its watchers ask again).
package relay
