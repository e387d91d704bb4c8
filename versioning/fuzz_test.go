package versioning

import (
	"strings"
	"testing"
)

// FuzzParse checks that any string Parse accepts is safe to use as a single
// directory name and URL segment, and round-trips exactly. The seed corpus
// runs as part of the normal test run.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.7.1", "1.7.2-pre", "1.7.2-rc.1", "1.7.1+meta", "v1.2.3", "1.7", "../1.2.3", "1.2.3-a/b", "1.2.3-..", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		if v.Original() != s {
			t.Fatalf("Parse(%q).Original() = %q", s, v.Original())
		}
		for _, d := range Dirs(v) {
			if d == "" || d == "." || d == ".." || strings.ContainsAny(d, "/\\\x00+ ") {
				t.Fatalf("Parse(%q) gave unsafe dir %q", s, d)
			}
		}
		if strings.Contains(s, "+") {
			t.Fatalf("Parse(%q) accepted build metadata", s)
		}
	})
}
