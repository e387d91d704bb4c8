package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/cdnserve/cdnserve/build"
	"github.com/cdnserve/cdnserve/devserver"
	"github.com/cdnserve/cdnserve/internal/settings"
	"github.com/spf13/afero"
)

const devExamples = `  cdnserve dev                           # http://127.0.0.1:5555/, rebuilt from ./cdnserve.yaml on every change
  cdnserve dev -f lib/cdnserve.yaml --addr 127.0.0.1:9000
Live reload in a page under development:
  <script>
  new EventSource("http://127.0.0.1:5555/-/events").addEventListener("rebuild", () => location.reload());
  </script>
`

// runDev serves the project's bundles and files, rebuilt from the sources
// whenever they change. It is for development only.
func runDev(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "dev", "[flags]", devExamples)
	manifest := fs.String("f", build.DefaultManifestName, "manifest `file`")
	addr := fs.String("addr", "127.0.0.1:5555", "listen `address`; loopback unless you mean to share it")
	corsOrigins := fs.String("cors-origins", "", "comma-separated `origins` allowed by CORS; empty allows any (*)")
	var nf npmFlags
	nf.register(e, fs)
	if _, err := fs.ParseArgs(args, 0, 0, ""); err != nil {
		return err
	}
	logger, err := newLogger(e.stderr, "")
	if err != nil {
		return err
	}
	client, err := nf.gatedClient(e, filepath.Dir(e.abs(*manifest)), nil, "", logger) // dev stores nothing: no audit log
	if err != nil {
		return err
	}
	cfg := devserver.Config{Fs: afero.NewOsFs(), Manifest: e.abs(*manifest), Logger: logger, NPM: client}
	cfg.CORSOrigins = settings.SplitList(*corsOrigins)
	d, err := devserver.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if !isLoopback(ln.Addr()) {
		fmt.Fprintf(e.stderr, "WARNING: cdnserve dev is listening on %s (%s), beyond this machine. It serves unreviewed sources with no caching and is never meant for production; use cdnserve serve there.\n", *addr, ln.Addr())
	}
	hs := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	go d.Run(ctx)
	fmt.Fprintf(e.stdout, "cdnserve dev is serving on http://%s/ (rebuilt on every change; not for production)\n", displayAddr(ln.Addr()))
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
