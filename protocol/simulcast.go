package protocol

// Encoding is one simulcast layer a talker sends the room's relay, as
// RTCRtpEncodingParameters has it: its rid (RFC 8851), how much smaller
// than the camera's its picture is on each side, and its bitrate, in
// bits/s.
type Encoding struct {
	RID                   string  `json:"rid"`
	ScaleResolutionDownBy float64 `json:"scaleResolutionDownBy"`
	MaxBitrate            int     `json:"maxBitrate"`
}

// DirectBitrate is the default of what a talker sends each watcher it
// serves itself (not through the relay) at most, in bits/s: the full
// simulcast layer's.
const DirectBitrate = 1_500_000

// SimulcastEncodings returns the layers a talker sends the room's relay,
// lowest first: quarter, half and full resolution (rids "q", "h" and "f").
// talk.html has them from the server's /config (`simulcast`), the Go
// talker's files are sent under their rids, and the relay orders a
// talker's layers by them and takes their bitrates until it has measured
// its own.
func SimulcastEncodings() []Encoding {
	return []Encoding{
		{RID: "q", ScaleResolutionDownBy: 4, MaxBitrate: 150_000},
		{RID: "h", ScaleResolutionDownBy: 2, MaxBitrate: 500_000},
		{RID: "f", ScaleResolutionDownBy: 1, MaxBitrate: 1_500_000},
	}
}

// SimulcastRIDs returns the rids of SimulcastEncodings, lowest first.
func SimulcastRIDs() []string {
	var rids []string
	for _, e := range SimulcastEncodings() {
		rids = append(rids, e.RID)
	}
	return rids
}
