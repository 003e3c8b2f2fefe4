package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMetricsRoutesPprof: Go's profiles are served on the metrics listener
// with -pprof only.
func TestMetricsRoutesPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		rec := httptest.NewRecorder()
		metricsRoutes(http.NotFoundHandler(), on).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
		if got := rec.Code == http.StatusOK; got != on {
			t.Errorf("-pprof %v: GET /debug/pprof/ answered %d", on, rec.Code)
		}
	}
	cfg, err := parseServeConfig([]string{"-pprof"}, env(nil), nil)
	if err != nil || !cfg.Pprof {
		t.Fatalf("-pprof: %+v, %v", cfg.Pprof, err)
	}
}
