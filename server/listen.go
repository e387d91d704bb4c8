package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ListenOptions are how a Server listens: its addresses, TLS, and the
// limits of each connection. The zero value of a duration takes the
// default in its comment.
type ListenOptions struct {
	// Addr is the plain HTTP listen address; "" disables it.
	Addr string
	// TLSAddr is the HTTPS listen address (HTTP/2 and HTTP/1.1); "" disables
	// it. It needs TLSCert and TLSKey, PEM files.
	TLSAddr, TLSCert, TLSKey string
	// AdminAddr is the operator's listener (AdminHandler: /-/metrics,
	// /-/healthz, /-/readyz), plain HTTP; "" disables it. Keep it on
	// loopback or a private network: its metrics name private libraries.
	AdminAddr string
	// WriteTimeout is the longest time to send one response (default 10
	// minutes: big files on slow links).
	WriteTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may finish once ctx
	// ends (default 30 s).
	ShutdownTimeout time.Duration
	// Listening, if set, is called once every listener listens, before
	// the first request is served: the addresses as bound (":0" resolved).
	Listening func([]Listening)
}

// DefaultAdminAddr is serve's --admin-addr: loopback, so that only this
// machine (an agent such as a Prometheus node exporter's sidecar) reads
// the metrics.
const DefaultAdminAddr = "127.0.0.1:9180"

// Listening is one listener that listens.
type Listening struct {
	Scheme string // "http", "https", or "admin" (plain HTTP)
	Addr   net.Addr
}

// Validate checks the options before anything listens.
func (o ListenOptions) Validate() error {
	if o.Addr == "" && o.TLSAddr == "" {
		return errors.New("--addr and --tls-addr are both empty: nothing to listen on")
	}
	if o.TLSAddr != "" && (o.TLSCert == "" || o.TLSKey == "") {
		return errors.New("--tls-addr needs --tls-cert and --tls-key")
	}
	return nil
}

func (o ListenOptions) withDefaults() ListenOptions {
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Minute
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	return o
}

// listener is a bound listener and the http.Server that serves it.
type listener struct {
	ln     net.Listener
	hs     *http.Server
	scheme string
}

// ListenAndServe serves the server on the plain and TLS listeners of o
// until ctx ends: it refreshes every Config.Refresh (Run) and on SIGHUP,
// then shuts the listeners down gracefully (in-flight requests may
// finish within ShutdownTimeout), and flushes the usage counts. It
// returns the first listener's error, or nil after a clean shutdown.
func (s *Server) ListenAndServe(ctx context.Context, o ListenOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o = o.withDefaults()
	ls, err := s.listen(o)
	if err != nil {
		return err
	}
	errc := make(chan error, len(ls))
	bound := make([]Listening, len(ls))
	for i, l := range ls {
		scheme := l.scheme
		if scheme == "admin" {
			scheme = "http"
		}
		s.log.Info("listening", "url", scheme+"://"+l.ln.Addr().String(), "role", l.scheme)
		bound[i] = Listening{Scheme: l.scheme, Addr: l.ln.Addr()}
		if ta, ok := l.ln.Addr().(*net.TCPAddr); ok && l.scheme != "admin" {
			s.ports[l.scheme].Store(int32(ta.Port))
		}
		go func() {
			if err := l.hs.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	if o.Listening != nil {
		o.Listening(bound)
	}
	runCtx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	go s.Run(runCtx)
	go s.refreshOnHangup(runCtx)

	var serveErr error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down; letting in-flight requests finish", "timeout", o.ShutdownTimeout)
	case serveErr = <-errc:
	}
	draining := time.Now()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	for _, l := range ls {
		if err := l.hs.Shutdown(shutdownCtx); err != nil && serveErr == nil {
			serveErr = fmt.Errorf("shutdown: %w", err)
		}
	}
	if err := s.StopStats(); err != nil {
		s.log.Warn("flushing usage stats on shutdown failed", "err", err)
	}
	if serveErr != nil {
		s.log.Error("stopped", "err", serveErr, "drained", time.Since(draining))
	} else {
		s.log.Info("drain ended; stopped", "drained", time.Since(draining))
	}
	return serveErr
}

// listen binds every listener of o, or none: one that fails closes those
// already bound.
func (s *Server) listen(o ListenOptions) ([]listener, error) {
	var ls []listener
	fail := func(err error) ([]listener, error) {
		for _, l := range ls {
			l.ln.Close()
		}
		return nil, err
	}
	if o.Addr != "" {
		ln, err := net.Listen("tcp", o.Addr)
		if err != nil {
			return fail(fmt.Errorf("--addr: %w", err))
		}
		ls = append(ls, listener{ln, s.httpServer(o), "http"})
	}
	if o.TLSAddr != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return fail(fmt.Errorf("--tls-cert/--tls-key: %w", err))
		}
		ln, err := net.Listen("tcp", o.TLSAddr)
		if err != nil {
			return fail(fmt.Errorf("--tls-addr: %w", err))
		}
		hs := s.httpServer(o)
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
		ls = append(ls, listener{tls.NewListener(ln, hs.TLSConfig), hs, "https"})
	}
	if o.AdminAddr != "" {
		ln, err := net.Listen("tcp", o.AdminAddr)
		if err != nil {
			return fail(fmt.Errorf("--admin-addr: %w", err))
		}
		hs := s.httpServer(o)
		hs.Handler = s.AdminHandler()
		ls = append(ls, listener{ln, hs, "admin"})
	}
	return ls, nil
}

// httpServer sets the limits every listener gets: a slow client cannot
// hold a connection by dribbling headers, and headers are capped.
func (s *Server) httpServer(o ListenOptions) *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// refreshOnHangup re-reads the tokens and keys (Config.AccessFiles),
// the version list and the aliases at once on each SIGHUP, until ctx
// ends.
func (s *Server) refreshOnHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			s.ReloadAccess()
			if err := s.Refresh(); err != nil {
				s.log.Warn("refresh on SIGHUP failed", "err", err)
			} else {
				s.log.Info("refreshed on SIGHUP")
			}
		}
	}
}
