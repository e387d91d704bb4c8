package settings

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPrecedence: a flag beats the environment, which beats the config
// file, which beats the default; --print-config says which won, with
// secrets redacted.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("addr: from-file\nrefresh: 7s\nmirror: [a, b]\nstorage: s3://b/p?region=eu&sig=s3cret\n"), 0o644)
	env := map[string]string{"CDNSERVE_ADDR": "from-env", "CDNSERVE_PUBLIC_URL": "https://u:pw@cdn.example/"}
	var out bytes.Buffer
	s := New(Env{Stdout: &out, Stderr: &out, Dir: dir, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, "serve", "[flags]", "")
	addr := s.String("addr", ":8080", "")
	refresh := s.Duration("refresh", time.Second, "")
	s.String("public-url", "", "")
	var mirrors StringList
	s.Var(&mirrors, "mirror", "")
	storage := s.StorageFlag("dist", "")
	if _, err := s.ParseArgs([]string{"--config", cfg}, 0, 0, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want, source string }{
		{"addr", *addr, "from-env", "env CDNSERVE_ADDR"},
		{"refresh", refresh.String(), "7s", "config " + cfg + ":2"},
		{"mirror", strings.Join(mirrors, ","), "a,b", "config " + cfg + ":3"},
		{"storage", *storage, "s3://b/p?region=eu&sig=s3cret", "config " + cfg + ":4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want || s.Source(tc.name) != tc.source {
				t.Errorf("%s = %q from %q, want %q from %q", tc.name, tc.got, s.Source(tc.name), tc.want, tc.source)
			}
		})
	}
	if _, err := s.ParseArgs([]string{"--addr", "from-flag", "--print-config"}, 0, 0, ""); !errors.Is(err, ErrPrinted) {
		t.Fatalf("--print-config: %v", err)
	}
	if !strings.Contains(out.String(), `addr: "from-flag"  # flag`) || strings.Contains(out.String(), "s3cret") || strings.Contains(out.String(), "pw@") {
		t.Errorf("--print-config:\n%s", out.String())
	}
}

func TestConfigFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"an unknown key, with the nearest", "addr: :80\nrefrsh: 7s\n", `:2: unknown key "refrsh" (did you mean "refresh"?`},
		{"a duplicate", "addr: a\naddr: b\n", `:2: duplicate key "addr"`},
		{"a bad value", "refresh: soon\n", `:1: refresh: "soon"`},
		{"not a mapping", "- a\n", ":1: want a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(cfg, []byte(tc.file), 0o644)
			var out bytes.Buffer
			s := New(Env{Stdout: &out, Stderr: &out}, "serve", "", "")
			s.String("addr", "", "")
			s.Duration("refresh", time.Second, "")
			_, err := s.ParseArgs([]string{"--config", cfg}, 0, 0, "")
			if err == nil || !strings.Contains(err.Error(), cfg+tc.want) {
				t.Errorf("error %v, want %q", err, cfg+tc.want)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	for _, tc := range []struct{ typo, want string }{{"verison", "version"}, {"strage", "storage"}, {"zzzzzz", ""}} {
		t.Run(tc.typo, func(t *testing.T) {
			if got := Nearest(tc.typo, []string{"version", "storage", "serve"}); got != tc.want {
				t.Errorf("Nearest(%q) = %q, want %q", tc.typo, got, tc.want)
			}
		})
	}
	if got := SplitList(" a, ,b "); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("SplitList = %q", got)
	}
}
