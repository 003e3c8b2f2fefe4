package recording

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/broadcast-service/broadcast/internal/httperr"
	"github.com/broadcast-service/broadcast/signaling"
)

// Handler serves the recording endpoints (see the package documentation).
func (r *Recorder) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rooms/{room}/recording", r.serveState)
	mux.HandleFunc("PUT /rooms/{room}/recording", r.serveStart)
	mux.HandleFunc("DELETE /rooms/{room}/recording", r.serveStop)
	mux.HandleFunc("GET /recordings", r.serveList)
	mux.HandleFunc("GET /recordings/{name}", r.serveFile)
	return mux
}

// authorize checks the request's talk key for room, in a keyed server:
// ErrNoToken, ErrBadToken; ErrBadRoom for a name that is none.
func (r *Recorder) authorize(req *http.Request, room string) error {
	if err := signaling.ValidRoomName(room); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRoom, err)
	}
	if r.cfg.Keys == nil {
		return nil
	}
	key := httperr.Bearer(req)
	if key == "" {
		key = req.URL.Query().Get("key")
	}
	if key == "" {
		return ErrNoToken
	}
	if r.cfg.Keys.CheckTalk(room, key) != nil {
		return fmt.Errorf("%w: not this room's talk key", ErrBadToken)
	}
	return nil
}

func (r *Recorder) serveState(w http.ResponseWriter, req *http.Request) {
	room := req.PathValue("room")
	if err := r.authorize(req, room); err != nil {
		r.fail(w, req, err)
		return
	}
	r.json(w, r.State(room))
}

func (r *Recorder) serveStart(w http.ResponseWriter, req *http.Request) {
	room := req.PathValue("room")
	err := r.authorize(req, room)
	var st State
	if err == nil {
		st, err = r.Start(room)
	}
	if err != nil {
		r.fail(w, req, err)
		return
	}
	r.json(w, st)
}

func (r *Recorder) serveStop(w http.ResponseWriter, req *http.Request) {
	room := req.PathValue("room")
	if err := r.authorize(req, room); err != nil {
		r.fail(w, req, err)
		return
	}
	r.json(w, r.Stop(room))
}

func (r *Recorder) serveList(w http.ResponseWriter, req *http.Request) {
	room := req.URL.Query().Get("room")
	var err error
	switch {
	case room != "":
		err = r.authorize(req, room)
	case r.cfg.Keys != nil:
		err = fmt.Errorf("%w: list one room's recordings (?room=) with its talk key", ErrNoToken)
	}
	var list []Info
	if err == nil {
		list, err = r.List(room)
	}
	if err != nil {
		r.fail(w, req, err)
		return
	}
	if list == nil {
		list = []Info{}
	}
	r.json(w, list)
}

func (r *Recorder) serveFile(w http.ResponseWriter, req *http.Request) {
	f, info, err := r.open(req.PathValue("name"))
	if err == nil {
		defer f.Close()
		err = r.authorize(req, info.Room)
	}
	if err != nil {
		r.fail(w, req, err)
		return
	}
	w.Header().Set("Content-Type", contentType(info.Name))
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(info.Name)) // RFC 6266 §4.3
	// No modification time: a recording still being written grows, and
	// no cache may take an earlier copy for it.
	http.ServeContent(w, req, info.Name, time.Time{}, f)
}

func (r *Recorder) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		r.log.Debug("write response", "err", err)
	}
}

// fail answers err with its status and a JSON body {code, message}.
func (r *Recorder) fail(w http.ResponseWriter, req *http.Request, err error) {
	status, code := statusOf(err)
	if status == http.StatusInternalServerError && !errors.Is(err, ErrNoFile) {
		r.log.Warn("recording request failed", "method", req.Method, "path", req.URL.Path, "err", err)
	}
	httperr.Write(w, status, code, "recordings", err)
}
