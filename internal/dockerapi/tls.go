package dockerapi

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// tlsConfig loads the docker CLI's TLS files for a daemon at addr: ca.pem is
// needed only to verify the daemon, and the client certificate is sent when
// cert.pem exists, as the CLI does.
func tlsConfig(env Env, addr string) (*tls.Config, error) {
	dir := env.CertPath
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	serverName, _, err := net.SplitHostPort(addr)
	if err != nil {
		serverName = addr
	}
	cfg := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12, InsecureSkipVerify: !env.TLSVerify} //nolint:gosec // DOCKER_TLS without DOCKER_TLS_VERIFY asks for exactly this
	if env.TLSVerify {
		caFile := filepath.Join(dir, "ca.pem")
		ca, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("DOCKER_TLS_VERIFY is set: %w (set DOCKER_CERT_PATH)", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%s holds no certificate", caFile)
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
