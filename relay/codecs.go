package relay

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// relayCodecs are the codecs the relay negotiates: those it forwards
// (Opus; VP8, VP9 and H.264, whose keyframes it tells, each with its RTX
// format), with pion's default payload types and format parameters. pion's
// other defaults (G.722, PCMU, PCMA, AV1, H.265) would be taken from a
// talker only to be dropped: NewUpstream refuses them.
func relayCodecs() (audio, video []webrtc.RTPCodecParameters) {
	fb := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	audio = []webrtc.RTPCodecParameters{{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}}
	add := func(mime, fmtp string, pt, rtx webrtc.PayloadType) {
		video = append(video,
			webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: fb}, PayloadType: pt},
			webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", pt)}, PayloadType: rtx})
	}
	add(webrtc.MimeTypeVP8, "", 96, 97)
	h264 := "level-asymmetry-allowed=1;packetization-mode=%d;profile-level-id=%s"
	add(webrtc.MimeTypeH264, fmt.Sprintf(h264, 1, "42001f"), 102, 103)
	add(webrtc.MimeTypeH264, fmt.Sprintf(h264, 0, "42001f"), 104, 105)
	add(webrtc.MimeTypeH264, fmt.Sprintf(h264, 1, "42e01f"), 106, 107)
	add(webrtc.MimeTypeH264, fmt.Sprintf(h264, 0, "42e01f"), 108, 109)
	add(webrtc.MimeTypeH264, fmt.Sprintf(h264, 1, "4d001f"), 127, 125)
	add(webrtc.MimeTypeH264, fmt.Sprintf(h264, 0, "4d001f"), 39, 40)
	add(webrtc.MimeTypeVP9, "profile-id=0", 98, 99)
	add(webrtc.MimeTypeVP9, "profile-id=2", 100, 101)
	add(webrtc.MimeTypeH264, fmt.Sprintf(h264, 1, "64001f"), 112, 113)
	return audio, video
}

// registerRelayCodecs registers relayCodecs on m.
func registerRelayCodecs(m *webrtc.MediaEngine) error {
	audio, video := relayCodecs()
	for _, c := range audio {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return err
		}
	}
	for _, c := range video {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return err
		}
	}
	return nil
}
