package watchers

import "testing"

func TestPhaseMovesOnlyForward(t *testing.T) {
	all := []phase{phaseNew, phaseOffered, phaseAnswered, phaseLive, phaseGone}
	for _, from := range all {
		for _, to := range all {
			want := from != phaseGone && to > from
			if got := from.allowed(to); got != want {
				t.Errorf("%v to %v allowed %v, want %v", from, to, got, want)
			}
		}
	}
}

// Orphaned is the one phase a watcher leaves backward: it is reached from
// answered or live (or again from orphaned, its grace starting over), and
// left for live, resumed, or gone.
func TestPhaseOrphanedMoves(t *testing.T) {
	all := []phase{phaseNew, phaseOffered, phaseAnswered, phaseLive, phaseOrphaned, phaseGone}
	for _, p := range all {
		into := p == phaseAnswered || p == phaseLive || p == phaseOrphaned
		if got := p.allowed(phaseOrphaned); got != into {
			t.Errorf("%v to orphaned allowed %v, want %v", p, got, into)
		}
		out := p == phaseLive || p == phaseGone
		if got := phaseOrphaned.allowed(p); got != out && p != phaseOrphaned {
			t.Errorf("orphaned to %v allowed %v, want %v", p, got, out)
		}
	}
}
