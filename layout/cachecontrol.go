package layout

// Default Cache-Control values, used by the server and stored on objects
// so that a bucket served directly behaves the same.
const (
	// DefaultExactCacheControl is for an exact version's files: they never
	// change, so caches keep them a year without revalidating (RFC 8246).
	DefaultExactCacheControl = "public, max-age=31536000, immutable"
	// DefaultAliasCacheControl is for aliases and what moves with them:
	// short, so a publish is seen within minutes (RFC 5861 for
	// stale-while-revalidate).
	DefaultAliasCacheControl = "public, max-age=300, stale-while-revalidate=60"
	// DefaultRedirectCacheControl is for a range or tag's redirect.
	DefaultRedirectCacheControl = "public, max-age=60"
	// DefaultNotFoundCacheControl is for a 404.
	DefaultNotFoundCacheControl = "public, max-age=60"
	// InternalCacheControl is for manifests and internal files stored as
	// objects: always revalidated.
	InternalCacheControl = "no-cache"
)
