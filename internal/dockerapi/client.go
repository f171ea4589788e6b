package dockerapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one Docker daemon. It is safe for concurrent use and reuses
// connections between requests; Close releases the idle ones.
type Client struct {
	host          string // as configured, for messages
	network, addr string
	tls           *tls.Config // nil for plain connections
	base          url.URL     // scheme and Host header of requests
	hc            *http.Client
}

// New returns a Client for env. A tcp:// host without a port gets dockerd's:
// 2376 with TLS, else 2375. It reads the TLS files but does not connect.
func New(env Env) (*Client, error) {
	if env.Host == "" {
		env.Host = DefaultHost
	}
	network, addr, err := ParseHost(env.Host)
	if err != nil {
		return nil, err
	}
	c := &Client{host: env.Host, network: network, addr: addr, base: url.URL{Scheme: "http", Host: "docker"}}
	if network == "tcp" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			port := defaultPort
			if env.useTLS() {
				port = defaultTLSPort
			}
			c.addr = net.JoinHostPort(strings.Trim(addr, "[]"), port)
		}
		// The Host header names the daemon, for proxies in front of it; the
		// connection itself comes from dial.
		c.base.Host = c.addr
		if env.useTLS() {
			if c.tls, err = tlsConfig(env, c.addr); err != nil {
				return nil, fmt.Errorf("docker host %s: %w", env.Host, err)
			}
		}
	}
	c.hc = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // the daemon is never behind the user's HTTP proxy
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return c.dial(ctx) },
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
	return c, nil
}

// Close closes the idle connections. The Client stays usable.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// dial opens a connection to the daemon, with TLS when configured. HTTP/1.1 is
// the only protocol offered: the hijack endpoints need an HTTP/1.1 Upgrade.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return nil, err
	}
	if c.tls == nil {
		return conn, nil
	}
	cfg := c.tls.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", c.addr, err)
	}
	return tc, nil
}

// url is the request URL of path and query.
func (c *Client) url(path string, query url.Values) string {
	u := c.base
	u.Path = path
	u.RawQuery = query.Encode()
	return u.String()
}

// Do sends one request and returns the response, whose body the caller closes.
// A body is sent as application/x-tar, the type of the Engine API's uploads
// (images/load, build). A non-2xx answer is an [*APIError] carrying the
// daemon's message; a daemon that does not answer at all is an
// [*UnreachableError]; a cancelled ctx returns its cause.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, query), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-tar")
	}
	req.Header.Set("User-Agent", "devloop")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, &UnreachableError{Host: c.host, Err: err}
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, apiError(method, path, resp)
	}
	return resp, nil
}

// APIError is a daemon's answer outside 2xx.
type APIError struct {
	Method, Path string
	// StatusCode and Status are the HTTP status, e.g. 404 and "404 Not Found".
	StatusCode int
	Status     string
	// Message is the daemon's explanation ("No such image: app:1"), or the
	// body's text when it is not the Engine API's JSON error; may be empty.
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s %s: %s", e.Method, e.Path, e.Status)
	}
	return fmt.Sprintf("%s %s: %s: %s", e.Method, e.Path, e.Status, e.Message)
}

// IsNotFound reports whether err is the daemon's 404, e.g. for an image it
// does not have.
func IsNotFound(err error) bool {
	ae, ok := errors.AsType[*APIError](err)
	return ok && ae.StatusCode == http.StatusNotFound
}

// apiError reads the daemon's error message from a non-2xx response.
func apiError(method, path string, resp *http.Response) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Status: resp.Status}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		e.Message = m.Message
	} else {
		e.Message = strings.TrimSpace(string(body))
	}
	return e
}

// UnreachableError says no daemon answered at Host: it is not running, or
// DOCKER_HOST names the wrong place.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Docker daemon at %s: %v", e.Host, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }
