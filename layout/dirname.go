package layout

import (
	"strings"

	"github.com/cdnserve/cdnserve/versioning"
)

// A library's records of its versions' lives (package dist): which are
// deprecated, with a message, and which were removed, and when. Dot-names:
// never served.
const (
	DeprecatedName = ".deprecated.json"
	RemovedName    = ".removed.json"
	// AccessName records who may read the library (Access): every
	// replica reads it, so privacy is a fact of the library in storage,
	// never a flag of one process.
	AccessName = ".access.json"
)

// DirKind says what a name in the dist root is.
type DirKind int

// The kinds of names in a dist root.
const (
	// Other is a name cdnserve neither writes nor serves.
	Other DirKind = iota
	// Exact is an exact version's directory: "1.7.1", "1.7.2-rc.1".
	Exact
	// Alias is a major.minor alias directory: "1.7".
	Alias
	// Internal is a dot-name: staging directories, the lock, journals.
	// Never served.
	Internal
	// Library is a named library's directory: "pusher", "sockjs-client".
	Library
	// Scope is a scope's directory, "@corp": it holds scoped libraries,
	// "@corp/widgets".
	Scope
)

// ClassifyDir says what a name in the dist root is. JBundle's layout
// writes exact versions and, for stable releases, major.minor aliases;
// cdnserve adds dot-names of its own, and named libraries beside them
// (CheckLibraryName keeps the two apart).
func ClassifyDir(name string) DirKind {
	switch {
	case strings.HasPrefix(name, "."):
		return Internal
	case versioning.IsAliasName(name):
		return Alias
	case strings.HasPrefix(name, "@"):
		if checkNamePart(name[1:]) == nil {
			return Scope
		}
		return Other
	}
	if _, err := versioning.Parse(name); err == nil {
		return Exact
	}
	if IsLibraryName(name) {
		return Library
	}
	return Other
}

// IsVersionDir reports whether a name can hold a version: an exact
// version or an alias.
func IsVersionDir(name string) bool {
	k := ClassifyDir(name)
	return k == Exact || k == Alias
}
