package dockerapi

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNew(t *testing.T) {
	cert, key := selfSigned(t)
	for _, tc := range []struct {
		name      string
		env       Env
		certs     map[string][]byte // written to a fresh CertPath when not nil
		wantNet   string
		wantAddr  string
		wantTLS   bool
		wantCerts int
		wantErr   string
	}{
		{name: "empty host is the default socket", wantNet: "unix", wantAddr: "/var/run/docker.sock"},
		{name: "tcp with port", env: Env{Host: "tcp://192.168.49.2:2376"}, wantNet: "tcp", wantAddr: "192.168.49.2:2376"},
		{name: "tcp without port", env: Env{Host: "tcp://docker"}, wantNet: "tcp", wantAddr: "docker:2375"},
		{name: "ipv6 without port", env: Env{Host: "tcp://[::1]"}, wantNet: "tcp", wantAddr: "[::1]:2375"},
		{name: "TLS without port", env: Env{Host: "tcp://docker", TLS: true}, certs: map[string][]byte{}, wantNet: "tcp", wantAddr: "docker:2376", wantTLS: true},
		{name: "TLS with client certificate", env: Env{Host: "tcp://docker:1234", TLS: true}, certs: map[string][]byte{"cert.pem": cert, "key.pem": key}, wantNet: "tcp", wantAddr: "docker:1234", wantTLS: true, wantCerts: 1},
		{name: "unix ignores TLS", env: Env{Host: "unix:///d.sock", TLS: true, TLSVerify: true}, certs: map[string][]byte{}, wantNet: "unix", wantAddr: "/d.sock"},
		{name: "verify without ca.pem", env: Env{Host: "tcp://docker:2376", TLSVerify: true}, certs: map[string][]byte{}, wantErr: "DOCKER_TLS_VERIFY is set"},
		{name: "ca.pem without certificate", env: Env{Host: "tcp://docker:2376", TLSVerify: true}, certs: map[string][]byte{"ca.pem": []byte("junk")}, wantErr: "holds no certificate"},
		{name: "cert.pem without key.pem", env: Env{Host: "tcp://docker:2376", TLS: true}, certs: map[string][]byte{"cert.pem": cert}, wantErr: "loading the Docker client certificate"},
		{name: "ssh", env: Env{Host: "ssh://me@docker"}, wantErr: "unsupported scheme"},
		{name: "no scheme", env: Env{Host: "/var/run/docker.sock"}, wantErr: "missing scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.certs != nil {
				tc.env.CertPath = t.TempDir()
				writeFiles(t, tc.env.CertPath, tc.certs)
			}
			c, err := New(tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New(%+v) error = %v, want one containing %q", tc.env, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v) error = %v", tc.env, err)
			}
			if c.network != tc.wantNet || c.addr != tc.wantAddr || (c.tls != nil) != tc.wantTLS {
				t.Errorf("New(%+v) = %s %s TLS %v, want %s %s TLS %v", tc.env, c.network, c.addr, c.tls != nil, tc.wantNet, tc.wantAddr, tc.wantTLS)
			}
			if c.tls != nil && len(c.tls.Certificates) != tc.wantCerts {
				t.Errorf("New(%+v) client certificates = %d, want %d", tc.env, len(c.tls.Certificates), tc.wantCerts)
			}
		})
	}
}

func TestDo(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Content-Type")+" "+string(body))
	})
	mux.HandleFunc("GET /images/missing/json", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"No such image: missing"}`)
	})
	mux.HandleFunc("DELETE /images/app", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "conflict: image is in use", http.StatusConflict)
	})
	mux.HandleFunc("POST /broken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	c := newClient(t, Env{Host: unixDaemon(t, mux)})

	for _, tc := range []struct {
		name    string
		method  string
		path    string
		query   url.Values
		body    string
		want    string
		wantErr *APIError
	}{{
		name: "get", method: http.MethodGet, path: "/version",
		want: "GET /version  ",
	}, {
		name: "query", method: http.MethodGet, path: "/images/json", query: url.Values{"filters": {`{"reference":["app"]}`}},
		want: `GET /images/json?filters=%7B%22reference%22%3A%5B%22app%22%5D%7D  `,
	}, {
		name: "body is a tar stream", method: http.MethodPost, path: "/images/load", query: url.Values{"quiet": {"1"}}, body: "tarball",
		want: "POST /images/load?quiet=1 application/x-tar tarball",
	}, {
		name: "JSON error message", method: http.MethodGet, path: "/images/missing/json",
		wantErr: &APIError{Method: "GET", Path: "/images/missing/json", StatusCode: 404, Status: "404 Not Found", Message: "No such image: missing"},
	}, {
		name: "text error message", method: http.MethodDelete, path: "/images/app",
		wantErr: &APIError{Method: "DELETE", Path: "/images/app", StatusCode: 409, Status: "409 Conflict", Message: "conflict: image is in use"},
	}, {
		name: "no error message", method: http.MethodPost, path: "/broken",
		wantErr: &APIError{Method: "POST", Path: "/broken", StatusCode: 500, Status: "500 Internal Server Error"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			resp, err := c.Do(context.Background(), tc.method, tc.path, tc.query, body)
			if tc.wantErr != nil {
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Fatalf("Do() error = %v, want an *APIError", err)
				}
				if diff := cmp.Diff(tc.wantErr, ae); diff != "" {
					t.Errorf("Do() error mismatch (-want +got):\n%s", diff)
				}
				if got, want := IsNotFound(err), tc.wantErr.StatusCode == 404; got != want {
					t.Errorf("IsNotFound(%v) = %v, want %v", err, got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do() error = %v", err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if string(got) != tc.want {
				t.Errorf("Do() request = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *APIError
		want string
	}{
		{err: &APIError{Method: "GET", Path: "/images/x/json", Status: "404 Not Found", Message: "No such image: x"}, want: "GET /images/x/json: 404 Not Found: No such image: x"},
		{err: &APIError{Method: "POST", Path: "/grpc", Status: "500 Internal Server Error"}, want: "POST /grpc: 500 Internal Server Error"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestDoUnreachable(t *testing.T) {
	host := "unix://" + t.TempDir() + "/docker.sock"
	c := newClient(t, Env{Host: host})
	_, err := c.Do(context.Background(), http.MethodGet, "/version", nil, nil)
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.Host != host {
		t.Fatalf("Do() error = %v, want an *UnreachableError for %s", err, host)
	}
	if want := "cannot reach the Docker daemon at " + host; !strings.Contains(err.Error(), want) {
		t.Errorf("Do() error = %q, want it to contain %q", err, want)
	}
}

func TestDoCancel(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := newClient(t, Env{Host: unixDaemon(t, mux)})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, http.MethodPost, "/images/load", nil, strings.NewReader("x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do(cancelled) error = %v, want the context's", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Do(cancelled) returned after %v: cancellation did not reach it", d)
	}
}

func TestDoReusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		},
	}
	host := serveUnix(t, srv)
	c := newClient(t, Env{Host: host})
	for range 3 {
		resp, err := c.Do(context.Background(), http.MethodGet, "/images/app/json", nil, nil)
		if err != nil {
			t.Fatalf("Do() error = %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("3 requests opened %d connections, want 1", n)
	}
}

func TestDoTLS(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	host, certPath := tlsDaemon(t, handler)
	notTheCA, _ := selfSigned(t)
	otherCA := t.TempDir()
	writeFiles(t, otherCA, map[string][]byte{"ca.pem": notTheCA})
	for _, tc := range []struct {
		name   string
		env    Env
		wantOK bool
	}{
		{name: "verified against ca.pem", env: Env{Host: host, TLSVerify: true, CertPath: certPath}, wantOK: true},
		{name: "unverified", env: Env{Host: host, TLS: true, CertPath: t.TempDir()}, wantOK: true},
		{name: "another CA", env: Env{Host: host, TLSVerify: true, CertPath: otherCA}},
		{name: "plain HTTP to a TLS port", env: Env{Host: host}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.env)
			resp, err := c.Do(context.Background(), http.MethodGet, "/version", nil, nil)
			if tc.wantOK {
				if err != nil {
					t.Fatalf("Do() error = %v", err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("Do() succeeded, want an error")
			}
		})
	}
}

func TestDoTLSClientCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.Config.ErrorLog = quietLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host := "tcp://" + srv.Listener.Addr().String()
	cert, key := selfSigned(t)
	withCert, without := t.TempDir(), t.TempDir()
	writeFiles(t, withCert, map[string][]byte{"cert.pem": cert, "key.pem": key})

	resp, err := newClient(t, Env{Host: host, TLS: true, CertPath: withCert}).Do(context.Background(), http.MethodGet, "/version", nil, nil)
	if err != nil {
		t.Fatalf("Do() with cert.pem error = %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "devloop-test-client" {
		t.Errorf("daemon saw client certificate %q, want devloop-test-client", got)
	}
	if resp, err := newClient(t, Env{Host: host, TLS: true, CertPath: without}).Do(context.Background(), http.MethodGet, "/version", nil, nil); err == nil {
		resp.Body.Close()
		t.Errorf("Do() without cert.pem succeeded, want the daemon to refuse")
	}
}
