package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// recorder wraps the response writer to learn the status and the bytes
// sent, for logs and metrics. It keeps io.ReaderFrom so that streaming a
// file can still use sendfile(2).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(r.ResponseWriter, src)
	}
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

const (
	kindKey    = "cdnserve.kind"
	libraryKey = "cdnserve.library"
)

// setKind records what kind of response a handler produced.
func setKind(c echo.Context, k routeKind) { c.Set(kindKey, k) }

func kindOf(c echo.Context) routeKind {
	if k, ok := c.Get(kindKey).(routeKind); ok {
		return k
	}
	return kindOther
}

// requestIDs makes request ids: a random per-process prefix and a
// counter, which is unique and cheap.
type requestIDs struct {
	prefix string
	seq    atomic.Uint64
}

func newRequestIDs() *requestIDs {
	b := make([]byte, 6)
	rand.Read(b)
	return &requestIDs{prefix: hex.EncodeToString(b) + "-"}
}

func (g *requestIDs) next() string {
	return g.prefix + strconv.FormatUint(g.seq.Add(1), 10)
}

// validRequestID accepts a client's X-Request-Id when it is short and
// printable ASCII, so it is safe to echo and to log.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// observe is the outermost middleware of Echo's routes: request id,
// metrics and the access log, as serveAsset does for the asset path.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		r := c.Request()
		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		id := s.requestID(c.Response().Header(), r)
		err := next(c)
		if err != nil {
			s.echo.HTTPErrorHandler(err, c)
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		var counts *libraryMetrics
		if lib, ok := c.Get(libraryKey).(*store); ok {
			counts = dataOf(lib).counts
		}
		private, _ := c.Get(privateKey).(bool)
		s.finish(r, id, counts, kindOf(c), status, rec.bytes, start, private)
		return nil
	}
}

// onceLog logs an ERROR the first time its message and attributes are
// seen: a damaged manifest or file is reported once per damage (a
// different damage, or the same thing damaged in another way, reads
// differently), not on every request for it.
// cdnserve_integrity_failures_total counts every refusal.
type onceLog struct {
	mu   sync.Mutex
	seen map[string]bool
}

// onceLogMax bounds what onceLog remembers; past it, it starts over.
const onceLogMax = 10000

func (o *onceLog) log(l *slog.Logger, msg string, args ...any) {
	key := fmt.Sprint(append([]any{msg}, args...)...)
	o.mu.Lock()
	if o.seen == nil || len(o.seen) >= onceLogMax {
		o.seen = map[string]bool{}
	}
	first := !o.seen[key]
	o.seen[key] = true
	o.mu.Unlock()
	if first {
		l.Error(msg, args...)
	}
}
