package dockerapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// unixDaemon serves handler on a unix socket and returns its Docker host.
func unixDaemon(t *testing.T, handler http.Handler) string {
	t.Helper()
	return serveUnix(t, &http.Server{Handler: handler})
}

// serveUnix runs srv on a unix socket and returns its Docker host.
func serveUnix(t *testing.T, srv *http.Server) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

// tlsDaemon serves handler over TLS on TCP and returns its Docker host and a
// cert path whose ca.pem trusts it.
func tlsDaemon(t *testing.T, handler http.Handler) (host, certPath string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = quietLog() // the failing cases' handshake errors
	srv.StartTLS()
	t.Cleanup(srv.Close)
	certPath = t.TempDir()
	writeFiles(t, certPath, map[string][]byte{"ca.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})})
	return "tcp://" + srv.Listener.Addr().String(), certPath
}

// quietLog drops an http.Server's log lines.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

func newClient(t *testing.T, env Env) *Client {
	t.Helper()
	c, err := New(env)
	if err != nil {
		t.Fatalf("New(%+v) error = %v", env, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// selfSigned returns a PEM certificate and key for a client.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "devloop-test-client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// writeFiles writes name→content files into dir.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
