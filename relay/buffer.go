package relay

import (
	"sync"
	"time"

	"github.com/pion/rtp"
)

// slotBytes is the room each slot of a packet buffer is given when its
// first packet comes (not before: a track that sends little, or nothing,
// costs little): an Ethernet MTU. A larger packet grows its slot once.
const slotBytes = 1500

// slot is one stored upstream packet: its bytes, the packet parsed from
// them (payload and extensions alias raw), and what was learnt of it on
// arrival.
type slot struct {
	raw []byte
	pkt rtp.Packet
	ext uint64    // extended sequence number; 0 for an empty slot
	at  time.Time // arrival
	key bool      // begins a keyframe
}

// packetBuffer is the ring of an upstream track's last packets, shared by
// every watcher of the track: a packet is stored once, whatever the number
// of watchers, and a watcher's NACK is answered from it. Slot i holds the
// packet whose extended sequence number is i modulo the size.
//
// One goroutine (the upstream's writer) stores packets under mu's write
// lock and reads its own slots without a lock; watchers read under the
// read lock.
type packetBuffer struct {
	mu    sync.RWMutex
	slots []slot
	mask  uint64
}

func newPacketBuffer(size int) *packetBuffer {
	return &packetBuffer{slots: make([]slot, size), mask: uint64(size - 1)}
}

// slot returns the slot the packet ext goes to.
func (b *packetBuffer) slot(ext uint64) *slot { return &b.slots[ext&b.mask] }

// has reports whether the packet ext is stored. The writer's own read.
func (b *packetBuffer) has(ext uint64) bool { return b.slot(ext).ext == ext }

// store parses raw into the packet ext's slot and returns the slot, or
// ErrBadPacket's cause and nil, leaving the slot empty.
func (b *packetBuffer) store(ext uint64, raw []byte, at time.Time) (*slot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.slot(ext)
	if s.raw == nil {
		s.raw = make([]byte, 0, max(slotBytes, len(raw)))
	}
	s.raw = append(s.raw[:0], raw...)
	if err := s.pkt.Unmarshal(s.raw); err != nil {
		s.ext = 0
		return nil, err
	}
	s.ext, s.at = ext, at
	return s, nil
}

// copyOut copies the stored packet ext into dst, its bytes into dst's
// buffer buf, and returns the grown buffer and whether the packet was
// there: a watcher's copy, made only to answer its NACK, outside the
// writer's lock.
func (b *packetBuffer) copyOut(ext uint64, dst *rtp.Packet, buf []byte) ([]byte, bool) {
	b.mu.RLock()
	s := b.slot(ext)
	if s.ext != ext {
		b.mu.RUnlock()
		return buf, false
	}
	buf = append(buf[:0], s.raw...)
	b.mu.RUnlock()
	return buf, dst.Unmarshal(buf) == nil
}
