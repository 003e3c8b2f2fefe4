package relay

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
