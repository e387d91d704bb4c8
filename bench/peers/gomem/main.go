// gomem: the net/http ceiling for bench/run.sh (with -cdnheaders: the ceiling for cdnserve's header set and timeouts): every file under -dir held in memory with
// precomputed headers; serves .br/.gz siblings by Accept-Encoding; strong content-hash ETags.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io/fs"
	"log"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

var (
	star    = []string{"*"}
	expose  = []string{"Content-Length, Content-Range, Content-Encoding, ETag, Last-Modified"}
	nosniff = []string{"nosniff"}
	corp    = []string{"cross-origin"}
	lastMod = []string{"Thu, 26 Nov 2026 12:00:00 GMT"}
	ranges  = []string{"bytes"}
)

type entry struct {
	body  []byte
	etag  string
	ctype string
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8084", "listen address")
	dir := flag.String("dir", ".", "directory to serve")
	cdnHeaders := flag.Bool("cdnheaders", false, "also send every header cdnserve sends (CORS, CORP, Timing-Allow-Origin, nosniff, a request id, Last-Modified, Accept-Ranges) and use its server timeouts: the ceiling for cdnserve's header set")
	flag.Parse()
	var seq atomic.Uint64
	files := map[string]*entry{}
	filepath.WalkDir(*dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(*dir, p)
		sum := sha256.Sum256(b)
		name := strings.TrimSuffix(strings.TrimSuffix(rel, ".br"), ".gz")
		files["/"+filepath.ToSlash(rel)] = &entry{b, `"` + hex.EncodeToString(sum[:8]) + `"`, mime.TypeByExtension(path.Ext(name))}
		return nil
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		e := files[p]
		if e == nil {
			http.NotFound(w, r)
			return
		}
		hd := w.Header()
		enc := ""
		if ae := r.Header.Get("Accept-Encoding"); ae != "" {
			if strings.Contains(ae, "br") && files[p+".br"] != nil {
				e, enc = files[p+".br"], "br"
			} else if strings.Contains(ae, "gzip") && files[p+".gz"] != nil {
				e, enc = files[p+".gz"], "gzip"
			}
		}
		if *cdnHeaders {
			hd["Access-Control-Allow-Origin"] = star
			hd["Access-Control-Expose-Headers"] = expose
			hd["Timing-Allow-Origin"] = star
			hd["X-Content-Type-Options"] = nosniff
			hd["Cross-Origin-Resource-Policy"] = corp
			hd["X-Request-Id"] = []string{"bench-" + strconv.FormatUint(seq.Add(1), 10)}
			hd["Last-Modified"] = lastMod
			hd["Accept-Ranges"] = ranges
		}
		hd["Content-Type"] = []string{e.ctype}
		hd["Etag"] = []string{e.etag}
		hd["Cache-Control"] = []string{"public, max-age=31536000, immutable"}
		hd["Vary"] = []string{"Accept-Encoding"}
		if enc != "" {
			hd["Content-Encoding"] = []string{enc}
		}
		if r.Header.Get("If-None-Match") == e.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		hd["Content-Length"] = []string{strconv.Itoa(len(e.body))}
		w.Write(e.body)
	})
	srv := &http.Server{Addr: *addr, Handler: h}
	if *cdnHeaders {
		srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = 10*time.Second, 30*time.Second, 10*time.Minute, 2*time.Minute
		srv.MaxHeaderBytes = 64 << 10
	}
	log.Fatal(srv.ListenAndServe())
}
