package dockerapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hijackMux serves /grpc the way dockerd does: 101 Switching Protocols, then an
// echo on the raw connection.
func hijackMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /grpc", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "h2c" || r.Header.Get("X-Docker-Expose-Session-Uuid") != "u1" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nhello")
		line, _ := rw.ReadString('\n')
		io.WriteString(conn, "echo "+line)
	})
	mux.HandleFunc("POST /hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /refused", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"page not found"}`)
	})
	return mux
}

func TestDialHijack(t *testing.T) {
	tlsHost, certPath := tlsDaemon(t, hijackMux())
	for _, tc := range []struct {
		name string
		env  Env
	}{
		{name: "unix", env: Env{Host: unixDaemon(t, hijackMux())}},
		{name: "tcp with TLS", env: Env{Host: tlsHost, TLSVerify: true, CertPath: certPath}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.env)
			conn, err := c.DialHijack(context.Background(), "/grpc", "h2c", map[string][]string{"X-Docker-Expose-Session-Uuid": {"u1"}})
			if err != nil {
				t.Fatalf("DialHijack() error = %v", err)
			}
			defer conn.Close()
			io.WriteString(conn, "ping\n")
			br := bufio.NewReader(conn)
			greeting := make([]byte, 5)
			if _, err := io.ReadFull(br, greeting); err != nil || string(greeting) != "hello" {
				t.Fatalf("reading upgraded stream = %q, %v, want hello", greeting, err)
			}
			if line, _ := br.ReadString('\n'); line != "echo ping\n" {
				t.Errorf("upgraded stream echo = %q, want %q", line, "echo ping\n")
			}

			_, err = c.DialHijack(context.Background(), "/refused", "h2c", nil)
			if !IsNotFound(err) || !strings.Contains(err.Error(), "page not found") {
				t.Errorf("DialHijack(refused) error = %v, want the daemon's 404 message", err)
			}
		})
	}
}

func TestDialHijackCancel(t *testing.T) {
	c := newClient(t, Env{Host: unixDaemon(t, hijackMux())})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DialHijack(ctx, "/hang", "h2c", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DialHijack(hang) error = %v, want the context's", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("DialHijack(hang) returned after %v: cancellation did not reach it", d)
	}
}
