package build

import "strings"

// versionPlaceholder in a substitution value stands for the version being
// built, including a `build --version` override.
const versionPlaceholder = "{{version}}"

// substituter applies the manifest's literal token substitutions. Each set
// is one strings.Replacer pass, so a value is never re-scanned by its own
// set; "all" runs first, then "src" (plain outputs) or "min" (minified).
type substituter struct {
	all, src, mini *strings.Replacer
}

func newSubstituter(s Substitutions, version string) substituter {
	return substituter{all: replacer(s.All, version), src: replacer(s.Src, version), mini: replacer(s.Min, version)}
}

func replacer(subs []Substitution, version string) *strings.Replacer {
	pairs := make([]string, 0, 2*len(subs))
	for _, s := range subs {
		pairs = append(pairs, s.Token, strings.ReplaceAll(s.Value, versionPlaceholder, version))
	}
	return strings.NewReplacer(pairs...)
}

func (s substituter) plain(data []byte) []byte {
	return []byte(s.src.Replace(s.all.Replace(string(data))))
}

func (s substituter) min(data []byte) []byte {
	return []byte(s.mini.Replace(s.all.Replace(string(data))))
}
