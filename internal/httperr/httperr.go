// Package httperr answers an HTTP request that failed as the server's
// endpoints all do: its status and a JSON body {code, message}, the shape
// of the protocol's signaling_error.
package httperr

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/broadcast-service/broadcast/protocol"
)

// Write answers with status and the body {code, message: err's text}; a
// 401 says the scheme it wants (RFC 6750 §3), in realm.
func Write(w http.ResponseWriter, status int, code, realm string, err error) {
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(protocol.SignalingError{Code: code, Message: err.Error()})
}

// Bearer returns the request's bearer token (RFC 6750 §2.1), or "".
func Bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Status is one error's HTTP status and the stable code of its body.
type Status struct {
	Err    error
	Status int
	Code   string
}

// Lookup returns the status and code of the first of table that err
// wraps (errors.Is), most specific first: 500 "internal" for none.
func Lookup(table []Status, err error) (int, string) {
	for _, s := range table {
		if errors.Is(err, s.Err) {
			return s.Status, s.Code
		}
	}
	return http.StatusInternalServerError, "internal"
}
