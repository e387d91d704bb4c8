package layout

import (
	"bytes"
	"compress/gzip"
	"strings"

	"github.com/andybalholm/brotli"
)

// Encoding is a content coding that cdnserve compresses files with, and
// the suffix of its precompressed sidecar file (RFC 9110 §8.4.1).
type Encoding struct {
	// Name is the Content-Encoding token: "br" or "gzip".
	Name string
	// Suffix is appended to a file's name to name its sidecar.
	Suffix string
}

// Encodings are the sidecars written for compressible files, in the order
// a server prefers them at equal q-values: the smallest first.
var Encodings = []Encoding{{Name: "br", Suffix: ".br"}, {Name: "gzip", Suffix: ".gz"}}

// Level is how hard to compress.
type Level int

const (
	// Best is for work done once, ahead of time: publishing sidecars
	// (brotli 11, gzip 9) and the gzip sizes a build reports.
	Best Level = iota
	// Fast is for work done while a client waits: a server compressing a
	// file that has no sidecar (brotli 6, gzip 6). It is done once per
	// file and kept.
	Fast
)

// Compress returns data compressed with the encoding at the level. Both
// writers take any input, so it cannot fail.
func (e Encoding) Compress(data []byte, level Level) []byte {
	var buf bytes.Buffer
	switch e.Name {
	case "br":
		q := brotli.BestCompression
		if level == Fast {
			q = 6
		}
		w := brotli.NewWriterLevel(&buf, q)
		w.Write(data)
		w.Close()
	case "gzip":
		l := gzip.BestCompression
		if level == Fast {
			l = 6
		}
		w, _ := gzip.NewWriterLevel(&buf, l) // the level is valid
		w.Write(data)
		w.Close()
	}
	return buf.Bytes()
}

// EncodingNamed returns the encoding with a Content-Encoding token, or
// false.
func EncodingNamed(name string) (Encoding, bool) {
	for _, e := range Encodings {
		if e.Name == name {
			return e, true
		}
	}
	return Encoding{}, false
}

// SplitSidecar reports whether name is the sidecar of a compressible file
// ("app.js.br" is app.js in br), and returns that file's name and the
// encoding.
func SplitSidecar(name string) (base string, enc Encoding, ok bool) {
	for _, e := range Encodings {
		if b, found := strings.CutSuffix(name, e.Suffix); found && Compressible(b) {
			return b, e, true
		}
	}
	return "", Encoding{}, false
}
