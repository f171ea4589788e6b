package build

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// engine is the little of the Docker Engine API the build needs: the BuildKit
// hijack endpoints and image tagging. It speaks HTTP itself rather than through
// the moby client module, which would add a large dependency for three calls.
type engine struct {
	network, addr string
	tls           *tls.Config // nil for plain connections
}

// newEngine returns an engine for host (unix:// or tcp://). certPath and verify
// follow the docker CLI's DOCKER_CERT_PATH and DOCKER_TLS_VERIFY: with a cert
// path the connection uses TLS with ca.pem, cert.pem and key.pem, and checks the
// daemon's certificate only when verify is set.
func newEngine(host, certPath string, verify bool) (*engine, error) {
	network, addr, err := splitDockerHost(host)
	if err != nil {
		return nil, err
	}
	e := &engine{network: network, addr: addr}
	if network == "tcp" && !strings.Contains(addr, ":") {
		e.addr += ":2375"
		if certPath != "" || verify {
			e.addr = addr + ":2376"
		}
	}
	if network == "tcp" && (certPath != "" || verify) {
		cfg, err := dockerTLSConfig(certPath, verify, e.addr)
		if err != nil {
			return nil, fmt.Errorf("docker host %s: %w", host, err)
		}
		e.tls = cfg
	}
	return e, nil
}

// dockerTLSConfig loads the docker CLI's TLS files from certPath.
func dockerTLSConfig(certPath string, verify bool, addr string) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: !verify} //nolint:gosec // the docker CLI's semantics: DOCKER_TLS_VERIFY unset means no verification
	if certPath == "" {
		return cfg, nil
	}
	if ca, err := os.ReadFile(filepath.Join(certPath, "ca.pem")); err == nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("no certificate in %s", filepath.Join(certPath, "ca.pem"))
		}
		cfg.RootCAs = pool
	} else if verify {
		return nil, fmt.Errorf("reading CA: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(certPath, "cert.pem"), filepath.Join(certPath, "key.pem"))
	if err != nil {
		return nil, fmt.Errorf("loading client certificate: %w", err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// dial opens a connection to the daemon, with TLS when configured. HTTP/1.1 is
// the only protocol offered: the hijack endpoints need an HTTP/1.1 Upgrade.
func (e *engine) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, e.network, e.addr)
	if err != nil {
		return nil, err
	}
	if e.tls == nil {
		return conn, nil
	}
	cfg := e.tls.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", e.addr, err)
	}
	return tc, nil
}

// hijackedConn reads what the HTTP response reader buffered before the raw stream.
type hijackedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *hijackedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// hijack POSTs to path asking to upgrade the connection to proto and returns the
// raw connection once the daemon switched protocols. This is the Engine API's
// /grpc (proto "h2c") and /session endpoints, as buildx's docker driver uses them.
func (e *engine) hijack(ctx context.Context, path, proto string, meta map[string][]string) (net.Conn, error) {
	conn, err := e.dial(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://docker"+path, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	for k, v := range meta {
		req.Header[k] = v
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", proto)
	req.Header.Set("User-Agent", "devloop")
	// The handshake must not outlive ctx; the upgraded stream may.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("requesting %s: %w", path, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("reading %s response: %w", path, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		return nil, fmt.Errorf("%s: %s", path, apiMessage(resp))
	}
	if !stop() {
		return nil, context.Cause(ctx)
	}
	return &hijackedConn{Conn: conn, r: br}, nil
}

// do sends one Engine API request and returns the response; non-2xx statuses
// become errors carrying the daemon's message.
func (e *engine) do(ctx context.Context, method, path string, query url.Values) (*http.Response, error) {
	u := "http://docker" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return e.dial(ctx) },
		DisableKeepAlives: true,
	}}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %s", method, path, apiMessage(resp))
	}
	return resp, nil
}

// apiMessage extracts the daemon's error message from a response.
func apiMessage(resp *http.Response) string {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return fmt.Sprintf("%s: %s", resp.Status, m.Message)
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		return fmt.Sprintf("%s: %s", resp.Status, s)
	}
	return resp.Status
}

// tag names image (an ID or reference) repo:tag in the daemon.
func (e *engine) tag(ctx context.Context, image, repo, tag string) error {
	resp, err := e.do(ctx, http.MethodPost, "/images/"+image+"/tag", url.Values{"repo": {repo}, "tag": {tag}})
	if err != nil {
		return fmt.Errorf("tagging %s as %s:%s: %w", image, repo, tag, err)
	}
	resp.Body.Close()
	return nil
}

// imageInfo is the part of GET /images/{name}/json the build reads.
type imageInfo struct {
	ID       string   `json:"Id"`
	RepoTags []string `json:"RepoTags"`
}

// inspect returns the daemon's record of an image.
func (e *engine) inspect(ctx context.Context, ref string) (imageInfo, error) {
	resp, err := e.do(ctx, http.MethodGet, "/images/"+ref+"/json", nil)
	if err != nil {
		return imageInfo{}, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	defer resp.Body.Close()
	var info imageInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return imageInfo{}, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return info, nil
}
