package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cdnserve/cdnserve/retry"
)

const healthcheckExamples = `  cdnserve healthcheck                       # GET http://127.0.0.1:8080/-/healthz; exit 0 when it answers 200
  CDNSERVE_ADDR=:9000 cdnserve healthcheck   # the address serve was given
  HEALTHCHECK CMD ["/cdnserve", "healthcheck"]   (in a Dockerfile: the image has no shell or curl)
`

// runHealthcheck asks a running `cdnserve serve` on this machine whether
// it is up: GET /-/healthz on the configured address. It reads the same
// --addr (or CDNSERVE_ADDR, or config file) as serve, so a container's
// HEALTHCHECK needs no arguments. Exit 0 on 200, 1 otherwise.
func runHealthcheck(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "healthcheck", "[flags]", healthcheckExamples)
	addr := fs.String("addr", ":8080", "the `address` serve listens on (plain HTTP)")
	tlsAddr := fs.String("tls-addr", "", "the HTTPS `address`, used when --addr is empty (the certificate is not checked: this is the local process)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if _, err := fs.ParseArgs(args, 0, 0, ""); err != nil {
		return err
	}
	url := ""
	switch {
	case *addr != "":
		url = "http://" + localHost(*addr) + "/-/healthz"
	case *tlsAddr != "":
		url = "https://" + localHost(*tlsAddr) + "/-/healthz"
	default:
		return errors.New("--addr and --tls-addr are both empty: nothing to check")
	}
	client := retry.NewHTTPClient(*timeout)
	client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the local process, by address
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: GET %s answered %s", url, resp.Status)
	}
	fmt.Fprintf(e.stdout, "healthy: GET %s answered %s\n", url, resp.Status)
	return nil
}

// localHost turns a listen address (":8080", "0.0.0.0:8080", "[::]:8080")
// into one to dial on this machine.
func localHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
