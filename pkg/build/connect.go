package build

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

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

// pingTimeout bounds the first call to BuildKit. A daemon that is stopped
// (SIGSTOP, a frozen VM) still accepts connections on its socket but never
// answers: without a bound devloop would wait forever without a word.
const pingTimeout = 15 * time.Second

// ping lists the workers: the cheapest call every BuildKit (including Docker
// 20.10's) answers, and it fails fast when nothing listens.
func ping(ctx context.Context, c *client.Client, ep endpoint) error {
	pctx, cancel := context.WithTimeoutCause(ctx, pingTimeout, errNoAnswer)
	defer cancel()
	ws, err := c.ListWorkers(pctx)
	if err != nil {
		if ctx.Err() == nil && context.Cause(pctx) == errNoAnswer {
			err = fmt.Errorf("no answer within %s: is it stopped or overloaded?", pingTimeout)
		}
		return fmt.Errorf("connecting to %s (%s): %w; %s", ep, ep.why, err, startHint(ep))
	}
	if len(ws) == 0 {
		return fmt.Errorf("%s has no workers", ep)
	}
	return nil
}

var errNoAnswer = errors.New("BuildKit did not answer")

// startHint says how to get the endpoint running, or how to pick another.
func startHint(ep endpoint) string {
	if ep.docker {
		return "start the Docker daemon (dockerd, Docker Desktop) or point DOCKER_HOST at a running one"
	}
	return "start buildkitd (buildkitd --addr " + ep.address +
		"; on the test bed: hack/testbed/testbed up) or set build.buildkit: docker in devloop.yaml to build in the Docker daemon"
}
