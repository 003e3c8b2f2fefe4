package relay

import (
	"testing"
	"time"
)

// A packet buffer takes a slot's room when the slot's first packet comes,
// not before.
func TestPacketBufferLazy(t *testing.T) {
	b := newPacketBuffer(512)
	for i := range b.slots {
		if cap(b.slots[i].raw) != 0 {
			t.Fatalf("slot %d holds %d bytes before any packet", i, cap(b.slots[i].raw))
		}
	}
	raw := rtpPacket(t, 7, 0, vp8KeyPayload)
	if _, err := b.store(firstExt+7, raw, time.Time{}); err != nil {
		t.Fatal(err)
	}
	held := 0
	for i := range b.slots {
		held += cap(b.slots[i].raw)
	}
	if held != slotBytes {
		t.Errorf("%d bytes held after one packet, want %d", held, slotBytes)
	}
}
