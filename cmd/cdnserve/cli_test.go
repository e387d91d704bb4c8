package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestEverySubcommandHelpAndBadFlags runs the real binary: every
// subcommand's -h shows examples and exits 0, and an unknown flag prints
// its usage and exits 2.
func TestEverySubcommandHelpAndBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runBin(t, dir, c.name, "-h")
			if code != 0 || !strings.Contains(errOut, "Usage: cdnserve "+c.name) || !strings.Contains(errOut, "Examples:\n  ") {
				t.Errorf("%s -h: exit %d\n%s", c.name, code, errOut)
			}
			code, _, errOut = runBin(t, dir, c.name, "--no-such-flag")
			if code != 2 || !strings.Contains(errOut, "flag provided but not defined: -no-such-flag") || !strings.Contains(errOut, "Usage: cdnserve "+c.name) {
				t.Errorf("%s --no-such-flag: exit %d\n%s", c.name, code, errOut)
			}
		})
	}
	code, _, errOut := runBin(t, dir, "--help")
	if code != 0 || !strings.Contains(errOut, "Examples:") || !strings.Contains(errOut, "CDNSERVE_TLS_ADDR") {
		t.Errorf("cdnserve --help: exit %d\n%s", code, errOut)
	}
}

func TestMissingArguments(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init"}, {"publish"}, {"publish", "out"}, {"fetch", "--cdn", "http://x", "--version", "1.0.0"}, {"verify", "a", "b"},
		{"serve", "extra"}, {"dev", "extra"}, {"healthcheck", "extra"}, {"version", "extra"}, {"build", "extra"},
	} {
		code, _, errOut := runBin(t, dir, args...)
		if code != 2 || !strings.Contains(errOut, "Usage: cdnserve "+args[0]) {
			t.Errorf("cdnserve %q: exit %d, want 2 with usage\n%s", args, code, errOut)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runBin(t, t.TempDir(), args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "cdnserve ") || !strings.HasPrefix(lines[1], "commit ") ||
			lines[2] != runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH {
			t.Errorf("cdnserve %s: exit %d\n%s", args[0], code, out)
		}
	}
}

// TestConfigPrecedence: flags, then CDNSERVE_* variables, then the config
// file, then defaults; --print-config shows each value and its source.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "serve.yaml")
	os.WriteFile(cfg, []byte(strings.Join([]string{
		"addr: 127.0.0.1:1111",   // beaten by the flag
		"cache-alias: from-file", // beaten by the environment
		"refresh: 7s",            // used
		"cors-origins: [https://a.example, https://b.example]", // a list
		"storage: s3://bucket/p?endpoint=http://user:pw@127.0.0.1:7070&region=eu&sig=abc",
	}, "\n")+"\n"), 0o644)
	code, out, errOut := runBinEnv(t, dir, []string{"CDNSERVE_CACHE_ALIAS=from-env", "CDNSERVE_CONFIG=" + cfg},
		"serve", "--print-config", "--addr", "127.0.0.1:2222")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`addr: "127.0.0.1:2222"  # flag`,
		`cache-alias: "from-env"  # env CDNSERVE_CACHE_ALIAS`,
		`refresh: "7s"  # config ` + cfg + `:3`,
		`cors-origins: "https://a.example,https://b.example"  # config ` + cfg + `:4`,
		`cache-exact: "public, max-age=31536000, immutable"  # default`,
		`config: "` + cfg + `"  # env CDNSERVE_CONFIG`,
		`sig=REDACTED`, `REDACTED@127.0.0.1`, `region=eu`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw@") || strings.Contains(out, "sig=abc") {
		t.Errorf("--print-config shows a secret:\n%s", out)
	}
	// A bad config file names the file and the line.
	os.WriteFile(cfg, []byte("refresh: 7s\nadress: :80\n"), 0o644)
	code, _, errOut = runBin(t, dir, "serve", "--print-config", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, cfg+`:2: unknown key "adress"`) {
		t.Errorf("unknown key: exit %d %q", code, errOut)
	}
	os.WriteFile(cfg, []byte("refresh: soon\n"), 0o644)
	code, _, errOut = runBin(t, dir, "serve", "--print-config", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, cfg+`:1: refresh: "soon": invalid value`) && !strings.Contains(errOut, cfg+`:1: refresh: "soon"`) {
		t.Errorf("bad value: exit %d %q", code, errOut)
	}
}

func TestHealthcheck(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0")
	addr := strings.TrimPrefix(s.base, "http://")
	code, out, errOut := runBin(t, dir, "healthcheck", "--addr", addr)
	if code != 0 || !strings.Contains(out, "healthy: GET http://"+addr+"/-/healthz answered 200 OK") {
		t.Errorf("live server: exit %d %q %q", code, out, errOut)
	}
	code, _, _ = runBinEnv(t, dir, []string{"CDNSERVE_ADDR=" + addr}, "healthcheck")
	if code != 0 {
		t.Errorf("CDNSERVE_ADDR: exit %d", code)
	}
	s.stop(t)
	code, _, errOut = runBin(t, dir, "healthcheck", "--addr", addr, "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "unhealthy: ") {
		t.Errorf("dead server: exit %d %q", code, errOut)
	}
}

// TestProgressOnlyOnATerminal: a build shows a progress line when stderr
// is a terminal, and writes nothing extra otherwise (the real binary's
// stderr is a pipe here).
func TestProgressOnlyOnATerminal(t *testing.T) {
	dir := seedProject(t)
	code, _, errOut := runBin(t, dir, "build")
	if code != 0 || errOut != "" {
		t.Errorf("build with a pipe for stderr: exit %d, stderr %q; want nothing", code, errOut)
	}
	var errb bytes.Buffer
	e := &env{stdout: &bytes.Buffer{}, stderr: &errb, dir: seedProject(t), stderrTTY: true}
	if code := run(t.Context(), e, []string{"build"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := errb.String()
	if !strings.Contains(got, "\rbuilding 6/6 WebSocketMain.swf\x1b[K") || !strings.Contains(got, "\rpublishing ") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("terminal progress = %q", got)
	}
}
