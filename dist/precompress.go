package dist

import (
	"bytes"
	"compress/gzip"

	"github.com/andybalholm/brotli"
)

// Encoding is a content coding that cdnserve precompresses, with the
// suffix of its sidecar file (RFC 9110 §8.4.1).
type Encoding struct {
	// Name is the Content-Encoding token: "br" or "gzip".
	Name string
	// Suffix is appended to a file's name to name its sidecar.
	Suffix   string
	compress func([]byte) []byte
}

// Encodings are the sidecars written for compressible files, in the order
// a server prefers them.
var Encodings = []Encoding{
	{Name: "br", Suffix: ".br", compress: brotliBest},
	{Name: "gzip", Suffix: ".gz", compress: gzipBest},
}

func gzipBest(data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func brotliBest(data []byte) []byte {
	var buf bytes.Buffer
	bw := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	bw.Write(data)
	bw.Close()
	return buf.Bytes()
}

// sidecar is one precompressed variant of a file.
type sidecar struct {
	enc  Encoding
	data []byte
}

// precompress returns the sidecars of a file: gzip at best compression and
// brotli at quality 11, each kept only when smaller than the original.
func precompress(f File) []sidecar {
	if !Compressible(f.Name) {
		return nil
	}
	var out []sidecar
	for _, enc := range Encodings {
		if z := enc.compress(f.Data); len(z) < len(f.Data) {
			out = append(out, sidecar{enc: enc, data: z})
		}
	}
	return out
}
