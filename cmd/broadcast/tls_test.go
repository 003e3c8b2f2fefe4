package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With -tls-cert/-tls-key the pages come over HTTPS and sockets over WSS,
// and `entered` hands each socket its own TURN credentials.
func TestTLSAndTURNCredentials(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	base, _ := startServe(t, "-tls-cert", certFile, "-tls-key", keyFile, "-turn-urls", "turn:127.0.0.1:3478", "-turn-secret", "s")
	if !strings.HasPrefix(base, "http://") {
		t.Fatalf("base %s", base)
	}
	base = "https://" + strings.TrimPrefix(base, "http://")
	tlsConf := &tls.Config{RootCAs: pool}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
	resp, err := hc.Get(base + "/watch.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET watch.html over HTTPS: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, base, &sioclient.Options{Dialer: &websocket.Dialer{TLSClientConfig: tlsConf}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Emit("enter", map[string]string{"room": "r", "role": "watcher"}); err != nil {
		t.Fatal(err)
	}
	ev := <-c.Events()
	var entered struct {
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"iceServers"`
	}
	if ev.Name != "entered" || json.Unmarshal(ev.Args[0], &entered) != nil || len(entered.ICEServers) != 1 {
		t.Fatalf("got %s %s", ev.Name, ev.Args)
	}
	s := entered.ICEServers[0]
	if s.URLs[0] != "turn:127.0.0.1:3478" || !strings.HasSuffix(s.Username, ":"+c.ID()) || s.Credential == "" {
		t.Errorf("TURN entry %+v, want credentials for socket %s", s, c.ID())
	}
}
