package build

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/devloop/devloop/internal/dockerapi"
	"github.com/moby/buildkit/client"
	// Registers the docker-container:// scheme with BuildKit's client.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
)

// connect opens a BuildKit client for ep and checks that it answers. For a Docker
// daemon it also returns the Engine API client used to tag images.
func connect(ctx context.Context, ep endpoint, tlsFiles TLSFiles, lookupEnv func(string) (string, bool)) (*client.Client, *engine, error) {
	if ep.docker {
		env := dockerapi.EnvFrom(func(k string) string { v, _ := lookupEnv(k); return v })
		env.Host = ep.address
		eng, err := newEngine(env)
		if err != nil {
			return nil, nil, err
		}
		c, err := client.New(ctx, "",
			client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return eng.DialHijack(ctx, "/grpc", "h2c", nil)
			}),
			client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
				return eng.DialHijack(ctx, "/session", proto, meta)
			}),
		)
		if err != nil {
			eng.Close()
			return nil, nil, fmt.Errorf("connecting to %s: %w", ep, err)
		}
		if err := ping(ctx, c, ep); err != nil {
			c.Close()
			eng.Close()
			return nil, nil, err
		}
		return c, eng, nil
	}
	var opts []client.ClientOpt
	if tlsFiles != (TLSFiles{}) {
		serverName := tlsFiles.ServerName
		if serverName == "" {
			if u, err := url.Parse(ep.address); err == nil {
				serverName = u.Hostname()
			}
		}
		opts = append(opts, client.WithServerConfig(serverName, tlsFiles.CACert))
		if tlsFiles.Cert != "" || tlsFiles.Key != "" {
			opts = append(opts, client.WithCredentials(tlsFiles.Cert, tlsFiles.Key))
		}
	}
	c, err := client.New(ctx, ep.address, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to %s: %w", ep, err)
	}
	if err := ping(ctx, c, ep); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, nil, nil
}

// ping lists the workers: the cheapest call every BuildKit (including Docker
// 20.10's) answers, and it fails fast when nothing listens.
func ping(ctx context.Context, c *client.Client, ep endpoint) error {
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return fmt.Errorf("connecting to %s (%s): %w", ep, ep.why, err)
	}
	if len(ws) == 0 {
		return fmt.Errorf("%s has no workers", ep)
	}
	return nil
}
