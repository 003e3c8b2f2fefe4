package relay

import "github.com/pion/rtcp"

// HandleRTCP takes the RTCP packets the watcher sent about its stream (as
// pion's RTPSender.ReadRTCP gives them): a PLI or FIR for the watcher's
// SSRC asks the Upstream for a keyframe, merged with every other
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
		d.mu.Unlock()
		if u != nil {
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
// no longer holds, is missed; so is every one while not forwarding. It
// returns the packets sent and the numbers missed.
func (d *Downstream) HandleNACK(seqs []uint16) (served, missed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer func() {
		d.Counters.NACKsServed.Add(uint64(served))
		d.Counters.NACKsMissed.Add(uint64(missed))
	}()
	if d.state != Forwarding {
		return 0, len(seqs)
	}
	for _, seq := range seqs {
		out := unwrapSeq(seq, d.highOut)
		if out < d.startOut || out > d.highOut {
			missed++
			continue
		}
		var ok bool
		d.rtxRaw, ok = d.up.buf.copyOut(uint64(int64(out)+d.seqOffset), &d.rtxPkt, d.rtxRaw)
		if !ok {
			missed++
			continue
		}
		if _, ok := d.write(out, &d.rtxPkt); ok {
			served++
		} else {
			missed++
		}
	}
	return served, missed
}
