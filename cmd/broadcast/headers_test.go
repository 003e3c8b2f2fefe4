package main

import (
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/broadcast-service/broadcast/static"
)

// cspDirectives splits a Content-Security-Policy into its directives'
// source lists.
func cspDirectives(policy string) map[string][]string {
	d := map[string][]string{}
	for _, part := range strings.Split(policy, ";") {
		if f := strings.Fields(part); len(f) > 0 {
			d[f[0]] = f[1:]
		}
	}
	return d
}

func TestSecurityHeaders(t *testing.T) {
	base, _ := startServe(t)
	for _, path := range []string{"/", "/talk.html", "/watch.html", "/talk.js", "/style.css", "/config", "/healthz", "/no-such-page"} {
		_, _, h := get(t, base+path)
		for name, want := range map[string]string{
			"Referrer-Policy":        "no-referrer",
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Permissions-Policy":     "camera=(self), microphone=(self), display-capture=(self)",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", path, name, got, want)
			}
		}
		csp := cspDirectives(h.Get("Content-Security-Policy"))
		for directive, want := range map[string][]string{
			"default-src":     {"'none'"},
			"script-src":      {"'self'"},
			"style-src":       {"'self'"},
			"connect-src":     {"'self'"},
			"frame-ancestors": {"'none'"},
			"base-uri":        {"'none'"},
			"object-src":      {"'none'"},
		} {
			if !slices.Equal(csp[directive], want) {
				t.Errorf("%s: CSP %s = %q, want %q", path, directive, csp[directive], want)
			}
		}
	}
}

// TestHTTPServerTimeouts: an idle keep-alive connection is closed, and a
// slow client's headers are bounded.
func TestHTTPServerTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), newLogger(io.Discard, 0))
	if srv.IdleTimeout != idleTimeout || idleTimeout <= 0 {
		t.Errorf("IdleTimeout = %v, want %v", srv.IdleTimeout, idleTimeout)
	}
	if srv.ReadHeaderTimeout != readHeaderTimeout || readHeaderTimeout <= 0 {
		t.Errorf("ReadHeaderTimeout = %v, want %v", srv.ReadHeaderTimeout, readHeaderTimeout)
	}
}

// TestPagesHaveNoInlineCode: the pages run under a CSP without
// 'unsafe-inline', so no page may hold an inline script, style or event
// handler, or a javascript: URL.
func TestPagesHaveNoInlineCode(t *testing.T) {
	pages, err := fs.Glob(static.FS, "*.html")
	if err != nil || len(pages) < 3 {
		t.Fatalf("pages %q, %v", pages, err)
	}
	for _, page := range pages {
		b, err := fs.ReadFile(static.FS, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range inlineCode(t, string(b)) {
			t.Errorf("%s: %s", page, problem)
		}
	}
}

// inlineCode lists what a CSP without 'unsafe-inline' would refuse in doc.
func inlineCode(t *testing.T, doc string) []string {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			src := false
			for _, a := range n.Attr {
				switch key := strings.ToLower(a.Key); {
				case strings.HasPrefix(key, "on"):
					problems = append(problems, "<"+n.Data+"> has an inline handler "+a.Key)
				case key == "style":
					problems = append(problems, "<"+n.Data+"> has an inline style")
				case strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:"):
					problems = append(problems, "<"+n.Data+"> has a javascript: URL")
				case key == "src":
					src = true
				}
			}
			switch {
			case n.Data == "style":
				problems = append(problems, "a <style> element")
			case n.Data == "script" && (!src || n.FirstChild != nil):
				problems = append(problems, "an inline <script>")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return problems
}

func TestInlineCode(t *testing.T) {
	for doc, want := range map[string]int{
		`<script src="a.js"></script><link rel="stylesheet" href="s.css">`:            0,
		`<script>alert(1)</script>`:                                                   1,
		`<style>p{}</style><p style="color:red">`:                                     2,
		`<button onclick="go()">`:                                                     1,
		`<a href=" JavaScript:go()">`:                                                 1,
		`<script src="a.js">x</script><script type="module">import "./a.js"</script>`: 2,
	} {
		if got := inlineCode(t, doc); len(got) != want {
			t.Errorf("inlineCode(%q) = %q, want %d problems", doc, got, want)
		}
	}
}
