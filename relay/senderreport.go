package relay

import (
	"time"

	"github.com/pion/rtcp"
)

// ntpEpochOffset is the number of seconds from the NTP epoch (1900) to the
// Unix epoch (1970).
const ntpEpochOffset = 2208988800

// ntpTime returns t as a 64-bit NTP timestamp: seconds since 1900 in the
// high 32 bits, the fraction of a second in the low 32 (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// ntpAdd returns the NTP timestamp ntp moved by dt, which may be negative.
func ntpAdd(ntp uint64, dt time.Duration) uint64 {
	delta := int64(dt/time.Second)<<32 + int64(dt%time.Second)<<32/int64(time.Second)
	return uint64(int64(ntp) + delta)
}

// SenderReport builds the watcher's RTCP sender report as of now (the
// Upstream's clock): its SSRC, its packet and payload octet counts, and
// the wall-clock time of now with the RTP timestamp it maps to in the
// watcher's stream, carried on from the talker's latest sender report
// through the Downstream's timestamp offset, so that the watcher
// synchronises the track with the talker's others as the talker said.
// Before the talker's first report it maps the latest packet's timestamp
// to its arrival time instead, which keeps the track's own clock but not
// lip sync. It returns nil and false while not forwarding.
func (d *Downstream) SenderReport() (*rtcp.SenderReport, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state != Forwarding {
		return nil, false
	}
	u := d.up
	ref, ok := u.reference()
	if !ok {
		return nil, false
	}
	dt := u.now().Sub(ref.at)
	return &rtcp.SenderReport{
		SSRC:        d.ssrc,
		NTPTime:     ntpAdd(ref.ntp, dt),
		RTPTime:     ref.rtp + uint32(ticks(dt, u.clockRate)) + d.tsOffset,
		PacketCount: uint32(d.Counters.Packets.Load()),
		OctetCount:  uint32(d.Counters.Bytes.Load()),
	}, true
}
