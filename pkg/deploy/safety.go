package deploy

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// NonLocalContextError is returned by CheckContext for a kube context that does not
// look local and was not allowed. The CLI prints it as a one-line hint.
type NonLocalContextError struct {
	Context string
	Server  string
}

// Error says how to allow the context.
func (e *NonLocalContextError) Error() string {
	return fmt.Sprintf("refusing to deploy to non-local context %q: add it to allowContexts in devloop.yaml or pass --allow-context=%s", e.Context, e.Context)
}

// localContextPatterns are the kube context names of local cluster tools (path.Match
// syntax).
func localContextPatterns() []string {
	return []string{"kind-*", "minikube", "docker-desktop", "docker-for-desktop", "k3d-*", "colima*", "rancher-desktop", "orbstack", "microk8s", "devloop-testbed"}
}

// CheckContext refuses to deploy to a cluster that does not look local. A context is
// local when its name is one local tools create (kind-*, minikube, docker-desktop,
// k3d-*, colima*, rancher-desktop, orbstack, microk8s, devloop-testbed) or when its
// API server URL is on a loopback address (127.0.0.0/8, ::1, localhost). Any other
// context must be listed in allow, by exact name or glob pattern (path.Match syntax).
// The error is a *NonLocalContextError.
func CheckContext(context, server string, allow []string) error {
	for _, p := range localContextPatterns() {
		if ok, _ := path.Match(p, context); ok {
			return nil
		}
	}
	if isLoopbackServer(server) {
		return nil
	}
	for _, a := range allow {
		if a == context {
			return nil
		}
		if ok, err := path.Match(a, context); err == nil && ok {
			return nil
		}
	}
	return &NonLocalContextError{Context: context, Server: server}
}

// isLoopbackServer reports whether an API server URL (or bare host[:port]) points at
// this machine.
func isLoopbackServer(server string) bool {
	if server == "" {
		return false
	}
	host := server
	if strings.Contains(server, "://") {
		u, err := url.Parse(server)
		if err != nil {
			return false
		}
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(server); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
