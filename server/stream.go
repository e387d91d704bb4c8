package server

import (
	"net/http"

	"github.com/cdnserve/cdnserve/content"
)

// abortIfMismatched ends a response whose stream failed its hash: the
// bytes sent fall short of Content-Length, and the connection is cut
// (http.ErrAbortHandler), so nothing keeps the response as complete.
func (s *Server) abortIfMismatched(f *content.VerifyingFile) {
	if !f.Mismatched() {
		return
	}
	s.log.Error("aborted a response: the stored file failed its integrity check while it was sent", "file", f.Storage())
	s.metrics.damaged.Inc()
	panic(http.ErrAbortHandler)
}
