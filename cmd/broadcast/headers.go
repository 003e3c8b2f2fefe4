package main

import "net/http"

// contentSecurityPolicy lets the pages run only their own files: scripts
// and styles from the server (no inline script, style or event handler,
// no eval), sockets to the server itself ('self' covers ws: and wss: to the
// same host and port in CSP Level 3 browsers), no plugins, no <base>, forms
// submitted only to the server, and no framing: a talk page framed by
// another site could be clicked on air.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// permissionsPolicy gives the camera, the microphone and screen capture to
// the pages' own origin only, never to a frame from elsewhere.
const permissionsPolicy = "camera=(self), microphone=(self), display-capture=(self)"

// securityHeaders sets the headers every public response carries: the
// policies above, no Referer to other sites (a page URL holds its room and
// may hold a room key), no MIME sniffing, and X-Frame-Options for browsers
// without frame-ancestors.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Permissions-Policy", permissionsPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
