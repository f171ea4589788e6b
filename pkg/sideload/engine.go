package sideload

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// engine is the little of the Docker Engine API sideloading needs, over net/http.
// Paths carry no API version: every daemon serves its own current version there,
// and pinning one breaks on daemons that dropped it.
type engine struct {
	host string // DOCKER_HOST, for messages
	base url.URL
	hc   *http.Client
}

// newEngine builds a client for env.Host (unix:// or tcp://, with TLS as docker does).
func newEngine(env DockerEnv) (*engine, error) {
	u, err := url.Parse(env.Host)
	if err != nil {
		return nil, fmt.Errorf("parsing DOCKER_HOST %q: %w", env.Host, err)
	}
	tr := &http.Transport{
		Proxy:               nil, // the daemon is never behind the user's HTTP proxy
		MaxIdleConnsPerHost: 4,
	}
	e := &engine{host: env.Host, hc: &http.Client{Transport: tr}}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		e.base = url.URL{Scheme: "http", Host: "docker"}
	case "tcp", "http", "https":
		e.base = url.URL{Scheme: "http", Host: u.Host}
		if env.TLS || u.Scheme == "https" {
			cfg, err := tlsConfig(env)
			if err != nil {
				return nil, err
			}
			tr.TLSClientConfig = cfg
			e.base.Scheme = "https"
		}
	default:
		return nil, fmt.Errorf("DOCKER_HOST %q: only unix:// and tcp:// daemons are supported", env.Host)
	}
	return e, nil
}

// tlsConfig loads DOCKER_CERT_PATH's ca.pem, cert.pem and key.pem like the docker CLI.
func tlsConfig(env DockerEnv) (*tls.Config, error) {
	dir := env.CertPath
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !env.TLSVerify} //nolint:gosec // DOCKER_TLS without DOCKER_TLS_VERIFY asks for exactly this
	if env.TLSVerify {
		ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil {
			return nil, fmt.Errorf("DOCKER_TLS_VERIFY is set: %w (set DOCKER_CERT_PATH)", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%s holds no certificate", filepath.Join(dir, "ca.pem"))
		}
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the Docker client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// imageInspect is the part of GET /images/{name}/json sideloading reads.
type imageInspect struct {
	ID     string `json:"Id"`
	RootFS struct {
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

// do sends a request and turns a failure to connect into a one-line hint.
func (e *engine) do(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Response, error) {
	u := e.base
	u.Path = path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-tar")
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach the Docker daemon at %s: %w: is it running? (minikube: eval $(minikube docker-env))", e.host, err)
	}
	return resp, nil
}

// inspect returns the image ref, or nil when the daemon does not have it.
func (e *engine) inspect(ctx context.Context, ref string) (*imageInspect, error) {
	resp, err := e.do(ctx, http.MethodGet, "/images/"+ref+"/json", nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err := statusError(resp); err != nil {
		return nil, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	var ii imageInspect
	if err := json.NewDecoder(resp.Body).Decode(&ii); err != nil {
		return nil, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return &ii, nil
}

// list returns the IDs of the daemon's images, only those of repository repo
// when it is not empty.
func (e *engine) list(ctx context.Context, repo string) ([]string, error) {
	q := url.Values{}
	if repo != "" {
		f, err := json.Marshal(map[string][]string{"reference": {repo}})
		if err != nil {
			return nil, err
		}
		q.Set("filters", string(f))
	}
	resp, err := e.do(ctx, http.MethodGet, "/images/json", q, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	var sums []struct {
		ID string `json:"Id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sums); err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	ids := make([]string, 0, len(sums))
	for _, s := range sums {
		ids = append(ids, s.ID)
	}
	return ids, nil
}

// load posts a docker-archive to /images/load. The daemon answers 200 and then
// reports failures inside the JSON message stream, so the stream is read to the end.
func (e *engine) load(ctx context.Context, archive io.Reader) error {
	resp, err := e.do(ctx, http.MethodPost, "/images/load", url.Values{"quiet": {"1"}}, archive)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return fmt.Errorf("loading image: %w", err)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil {
			continue
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			return fmt.Errorf("loading image: %s", msg.ErrorDetail.Message)
		}
		if msg.Error != "" {
			return fmt.Errorf("loading image: %s", msg.Error)
		}
	}
	return sc.Err()
}

// version returns the daemon's OS and architecture.
func (e *engine) version(ctx context.Context) (osName, arch string, err error) {
	resp, err := e.do(ctx, http.MethodGet, "/version", nil, nil)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return "", "", fmt.Errorf("asking the daemon's version: %w", err)
	}
	var v struct{ Os, Arch string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", "", err
	}
	return v.Os, v.Arch, nil
}

// untag removes the tag ref (and the image, if it was its only name), keeping parents.
func (e *engine) untag(ctx context.Context, ref string) error {
	resp, err := e.do(ctx, http.MethodDelete, "/images/"+ref, url.Values{"noprune": {"1"}}, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return statusError(resp)
}

// statusError turns a non-2xx answer into an error carrying the daemon's message.
func statusError(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var m struct{ Message string }
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		return fmt.Errorf("%s: %s", resp.Status, m.Message)
	}
	if s := strings.TrimSpace(string(b)); s != "" {
		return fmt.Errorf("%s: %s", resp.Status, s)
	}
	return errors.New(resp.Status)
}
