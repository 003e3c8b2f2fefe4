package relay

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

func TestNTPTime(t *testing.T) {
	unix0 := time.Unix(0, 0)
	if got := ntpTime(unix0); got != ntpEpochOffset<<32 {
		t.Errorf("ntpTime(1970) = %x", got)
	}
	if got := ntpTime(unix0.Add(1500 * time.Millisecond)); got != (ntpEpochOffset+1)<<32|1<<31 {
		t.Errorf("ntpTime(1970 + 1.5 s) = %x", got)
	}
	base := ntpTime(newClock().Now())
	for _, dt := range []time.Duration{0, 250 * time.Millisecond, -250 * time.Millisecond, 3*time.Hour + 7*time.Millisecond, -time.Hour} {
		if got, want := ntpAdd(base, dt), ntpTime(newClock().Now().Add(dt)); got != want {
			t.Errorf("ntpAdd(%v) = %x, want %x", dt, got, want)
		}
	}
}

// A watcher's sender report carries its SSRC, counts, and the talker's
// mapping of RTP time to wall-clock time moved by the watcher's timestamp
// offset.
func TestSenderReport(t *testing.T) {
	clk := newClock()
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 0)
	other, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 0)
	d, w := downstreamFor(t, 0xd)
	if _, ok := d.SenderReport(); ok {
		t.Fatal("idle: a report")
	}
	// d forwards another track to timestamp 50000 first, so that on u its
	// timestamps are offset.
	other.Add(d)
	if err := other.Write(rtpPacket(t, 1, 50000, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	u.Add(d)
	if _, ok := d.SenderReport(); ok {
		t.Fatal("waiting: a report")
	}
	clk.Advance(time.Second)
	arrival := clk.Now()
	var inTS uint32 = 1<<32 - 45000 // wraps within the second after
	if err := u.Write(rtpPacket(t, 100, inTS, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	got := w.take()
	offset := got[len(got)-1].hdr.Timestamp - inTS
	if offset != 50000+90000-inTS {
		t.Fatalf("offset %d", offset)
	}

	check := func(name string, wantNTP uint64, wantRTP uint32) {
		t.Helper()
		sr, ok := d.SenderReport()
		want := rtcp.SenderReport{SSRC: 0xd, NTPTime: wantNTP, RTPTime: wantRTP, PacketCount: 2, OctetCount: 2 * uint32(len(vp8KeyPayload))}
		if !ok || sr.SSRC != want.SSRC || sr.NTPTime != want.NTPTime || sr.RTPTime != want.RTPTime || sr.PacketCount != want.PacketCount || sr.OctetCount != want.OctetCount {
			t.Errorf("%s: %v, %v\nwant %v", name, sr, ok, &want)
		}
	}
	// Before the talker's report: the packet's timestamp at its arrival.
	clk.Advance(time.Second)
	check("from the latest packet", ntpTime(arrival.Add(time.Second)), inTS+90000+offset)

	// The talker's report, then 250 ms.
	talkerNTP := ntpTime(arrival) + 12345
	if !u.HandleSenderReport(&rtcp.SenderReport{SSRC: 1234, NTPTime: talkerNTP, RTPTime: inTS + 100}) {
		t.Fatal("talker's report refused")
	}
	clk.Advance(250 * time.Millisecond)
	check("from the talker's report", talkerNTP+1<<30, inTS+100+22500+offset)

	// A report for another SSRC changes nothing.
	if u.HandleSenderReport(&rtcp.SenderReport{SSRC: 999, NTPTime: 1, RTPTime: 1}) {
		t.Error("another SSRC's report taken")
	}
	check("after another SSRC's report", talkerNTP+1<<30, inTS+100+22500+offset)
}
