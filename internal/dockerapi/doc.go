// Package dockerapi is the small Docker Engine API client devloop's packages
// share: where the daemon is (DOCKER_HOST and the docker CLI's TLS variables),
// a connection to it over a unix socket or TCP with TLS, plain requests with the
// daemon's error message as a Go error, and the HTTP/1.1 Upgrade hijack that
// BuildKit's /grpc and /session endpoints need.
//
// It speaks net/http itself rather than through the moby client module, which
// would be a large dependency for a handful of calls. Paths carry no API
// version: every daemon serves its own current version there, and pinning one
// breaks on daemons that dropped it.
//
// It knows no endpoint beyond the hijack: the callers (package build tags and
// inspects images, package sideload loads them) own their requests and the
// shape of the answers. It does not read the process environment by itself, and
// it supports neither ssh:// hosts nor docker contexts, which need the docker
// CLI.
package dockerapi
