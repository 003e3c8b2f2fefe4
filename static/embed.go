// Package static holds the pages of the service, embedded in the binary so
// that it runs from any directory: index.html (room form), talk.html and
// watch.html with their scripts and style, and vendor/socket.io.js, the
// official socket.io 2.x client, which `make` copies there from the
// version pinned in package-lock.json.
package static

import "embed"

// FS holds the pages. It is read-only.
//
//go:embed *.html *.js *.css all:vendor
var FS embed.FS

// ClientScript is the path in FS of the socket.io client script.
const ClientScript = "vendor/socket.io.js"
