package layout

import (
	"mime"
	"path"
	"strings"
)

// contentTypes are the exact Content-Type values cdnserve records and
// serves. They are fixed here, not read from the machine's mime.types, so
// that every publisher and every replica agrees on them.
var contentTypes = map[string]string{
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".cjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".wasm":  "application/wasm",
	".swf":   "application/x-shockwave-flash",
	".svg":   "image/svg+xml",
	".html":  "text/html; charset=utf-8",
	".htm":   "text/html; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".xml":   "application/xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".avif":  "image/avif",
	".ico":   "image/vnd.microsoft.icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
	".pdf":   "application/pdf",
}

// ContentType is the Content-Type of a published file, from its name
// alone: never sniffed from its bytes. Unknown types fall back to Go's
// built-in table and then to application/octet-stream.
func ContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// compressible lists the types worth precompressing: text formats and
// wasm. Images, fonts (already compressed) and Flash are left alone.
var compressible = map[string]bool{
	".js": true, ".mjs": true, ".cjs": true, ".css": true, ".json": true, ".map": true,
	".svg": true, ".html": true, ".htm": true, ".txt": true, ".xml": true, ".wasm": true,
}

// Compressible reports whether a file gets precompressed sidecars.
func Compressible(name string) bool {
	return compressible[strings.ToLower(path.Ext(name))]
}
