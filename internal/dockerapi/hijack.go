package dockerapi

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
)

// DialHijack POSTs to path asking to upgrade the connection to proto and returns
// the raw connection once the daemon switched protocols. This is the Engine
// API's /grpc (proto "h2c") and /session endpoints, as buildx's docker driver
// uses them; meta becomes request headers (the session's X-Docker-Expose-*).
// ctx bounds the handshake only: the returned connection outlives it.
func (c *Client) DialHijack(ctx context.Context, path, proto string, meta map[string][]string) (net.Conn, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path, nil), nil)
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
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, handshakeError(ctx, "requesting "+path, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, handshakeError(ctx, "reading "+path+" response", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		return nil, apiError(http.MethodPost, path, resp)
	}
	if !stop() {
		// ctx ended during the handshake and closed the connection.
		return nil, context.Cause(ctx)
	}
	return &hijackedConn{Conn: conn, r: br}, nil
}

// handshakeError is ctx's cause when ctx closed the connection under the
// handshake, which reads better than "use of closed network connection".
func handshakeError(ctx context.Context, doing string, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// hijackedConn reads what the HTTP response reader buffered before the raw stream.
type hijackedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *hijackedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
