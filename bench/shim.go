package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// dockerShim is a docker executable put first on kind's PATH. kind runs
// `docker exec --privileged NODE ctr …`, and --privileged fails on machines whose
// root lacks a capability (CAP_SYS_RESOURCE on the test bed's VMs: "unable to
// apply caps"). The shim drops that flag from docker exec and passes everything
// else to the real docker unchanged, so kind's own code path is what is timed.
const dockerShim = `#!/bin/sh
# Written by devloop's benchmark; removed when it ends.
real=%s
if [ "$1" = exec ]; then
  shift
  for a in "$@"; do
    shift
    [ "$a" = --privileged ] || set -- "$@" "$a"
  done
  exec "$real" exec "$@"
fi
exec "$real" "$@"
`

// writeDockerShim writes the shim as dir/docker, running realDocker.
func writeDockerShim(dir, realDocker string) (string, error) {
	p := filepath.Join(dir, "docker")
	if err := os.WriteFile(p, fmt.Appendf(nil, dockerShim, shellQuote(realDocker)), 0o755); err != nil {
		return "", fmt.Errorf("writing the docker shim: %w", err)
	}
	return p, nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
