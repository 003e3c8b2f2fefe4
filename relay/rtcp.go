package relay

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// HandleRTCP takes the RTCP packets the watcher sent about its stream (as
// pion's RTPSender.ReadRTCP gives them): a PLI or FIR for the watcher's
// SSRC asks the Upstream for a keyframe, at most once per
// watcherKeyframeInterval for this watcher, merged with every other
// watcher's; a NACK for it is answered from the Upstream's shared buffer
// (see HandleNACK). Packets for other SSRCs and of other kinds are
// ignored. It returns the NACKed packets sent again and those missed.
func (d *Downstream) HandleRTCP(pkts []rtcp.Packet) (served, missed int) {
	keyframe := false
	var seqs []uint16
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.PictureLossIndication:
			keyframe = keyframe || p.MediaSSRC == d.ssrc
		case *rtcp.FullIntraRequest:
			for _, e := range p.FIR {
				keyframe = keyframe || e.SSRC == d.ssrc
			}
		case *rtcp.TransportLayerNack:
			if p.MediaSSRC != d.ssrc {
				continue
			}
			for i := 0; i < len(p.Nacks) && len(seqs) < maxNACKs; i++ {
				p.Nacks[i].Range(func(seq uint16) bool {
					seqs = append(seqs, seq)
					return len(seqs) < maxNACKs
				})
			}
		}
	}
	if keyframe {
		d.Counters.KeyframeRequests.Add(1)
		d.mu.Lock()
		u := d.up
		ask := false
		if u != nil {
			now := u.now()
			ask = d.askedAt.IsZero() || now.Sub(d.askedAt) >= watcherKeyframeInterval
			if ask {
				d.askedAt = now
			}
		}
		d.mu.Unlock()
		if ask {
			u.RequestKeyframe()
		}
	}
	if len(seqs) == 0 {
		return 0, 0
	}
	return d.HandleNACK(seqs)
}

// maxNACKs bounds the sequence numbers one HandleRTCP call answers: a
// compound packet of NACKs can name thousands.
const maxNACKs = 1024

// HandleNACK sends the watcher again the packets of its sequence numbers
// seqs (its own numbers, as in its NACK) found in the Upstream's shared
// buffer, each mapped back to the upstream's number through the offset of
// the current start, and rewritten as when first sent. A number the
// watcher was never sent in its current start, or whose packet the buffer
// no longer holds, is missed; so is every one while not forwarding, one
// sent to the watcher again less than resendInterval ago (a number named
// twice is sent once), and one past the watcher's budget of rtxRate
// packets a second (rtxBurst at once). The packets are copied out under
// the Downstream's lock and written after it, so that the talker's
// packets go on to every watcher meanwhile. It returns the packets sent
// and the numbers missed.
func (d *Downstream) HandleNACK(seqs []uint16) (served, missed int) {
	d.nackMu.Lock()
	defer d.nackMu.Unlock()
	defer func() {
		d.Counters.NACKsServed.Add(uint64(served))
		d.Counters.NACKsMissed.Add(uint64(missed))
	}()
	n := d.copyRTX(seqs)
	missed = len(seqs) - n
	for i := range d.rtx[:n] {
		if d.writeRTX(&d.rtx[i]) {
			served++
		} else {
			missed++
		}
	}
	return served, missed
}

// rtxPacket is a packet to send a watcher again: a copy of the upstream
// packet, the watcher's number and timestamp for it.
type rtxPacket struct {
	raw []byte
	pkt rtp.Packet
	out uint64
	ts  uint32
}

// copyRTX copies into d.rtx the packets of seqs to send again and returns
// their number. Called with nackMu held.
func (d *Downstream) copyRTX(seqs []uint16) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state != Forwarding || d.hold {
		// Nothing to send, or a swamped link's switch (SwitchNow): the
		// held layer's retransmissions would crowd out the keyframe too.
		return 0
	}
	now := d.up.now()
	n := 0
	for _, seq := range seqs {
		out := unwrapSeq(seq, d.highOut)
		if out < d.startOut || out > d.highOut || !d.limit.allow(out, now) {
			continue
		}
		if n == len(d.rtx) {
			d.rtx = append(d.rtx, rtxPacket{})
		}
		p := &d.rtx[n]
		var ok bool
		p.raw, ok = d.up.buf.copyOut(uint64(int64(out)+d.seqOffset), &p.pkt, p.raw)
		if !ok {
			continue
		}
		p.out, p.ts = out, d.outTS(out, p.pkt.Timestamp)
		n++
	}
	return n
}

// retransmitWriter is a Writer that is told a packet sent again apart
// from a packet forwarded (to count them apart).
type retransmitWriter interface {
	WriteRetransmission(header *rtp.Header, payload []byte) (int, error)
}

// writeRTX writes p as the watcher's packet and reports whether the
// writer took it. Called with nackMu held, not mu.
func (d *Downstream) writeRTX(p *rtxPacket) bool {
	h := &d.rtxHdr
	*h = p.pkt.Header
	h.Extension, h.ExtensionProfile, h.Extensions = false, 0, d.rtxExts[:0]
	h.SSRC, h.PayloadType = d.ssrc, d.pt
	h.SequenceNumber, h.Timestamp = uint16(p.out), p.ts
	if d.absID != 0 {
		absSendTime(time.Now(), &d.rtxAbs)
		d.stampSendTime(h, &d.rtxAbs)
	}
	write := d.w.WriteRTP
	if rw, ok := d.w.(retransmitWriter); ok {
		write = rw.WriteRetransmission
	}
	_, err := write(h, p.pkt.Payload)
	d.rtxExts = h.Extensions[:0]
	if err != nil {
		d.Counters.WriteErrors.Add(1)
		return false
	}
	return true
}
