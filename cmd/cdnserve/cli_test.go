package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestEverySubcommandHelpAndBadFlags runs the real binary: every
// subcommand's -h and --help print usage and examples on stdout (so
// `cdnserve serve --help | less` shows them) and exit 0, and an unknown
// flag prints its usage on stderr and exits 2.
func TestEverySubcommandHelpAndBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, h := range []string{"-h", "--help"} {
				code, out, errOut := runBin(t, dir, c.name, h)
				if code != 0 || errOut != "" || !strings.Contains(out, "Usage: cdnserve "+c.name) || !strings.Contains(out, "Examples:\n  ") ||
					!strings.Contains(out, "-print-config") || !strings.Contains(out, "-config file") {
					t.Errorf("%s %s: exit %d\nstdout %s\nstderr %s", c.name, h, code, out, errOut)
				}
			}
			code, out, errOut := runBin(t, dir, c.name, "--no-such-flag")
			if code != 2 || out != "" || !strings.Contains(errOut, "flag provided but not defined: -no-such-flag") || !strings.Contains(errOut, "Usage: cdnserve "+c.name) {
				t.Errorf("%s --no-such-flag: exit %d\n%s", c.name, code, errOut)
			}
		})
	}
	for _, h := range []string{"--help", "-h", "help"} {
		code, out, errOut := runBin(t, dir, h)
		if code != 0 || errOut != "" || !strings.Contains(out, "Examples:") || !strings.Contains(out, "CDNSERVE_TLS_ADDR") {
			t.Errorf("cdnserve %s: exit %d\nstdout %s\nstderr %s", h, code, out, errOut)
		}
	}
	code, out, errOut := runBin(t, dir)
	if code != 2 || out != "" || !strings.Contains(errOut, "Usage: cdnserve <command>") {
		t.Errorf("cdnserve alone: exit %d, want 2 with usage on stderr\nstdout %s\nstderr %s", code, out, errOut)
	}
}

// TestSuggestions: a mistyped command, root flag, flag or config key
// names the nearest one.
func TestSuggestions(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("cors-orgins: https://a.example\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--verison"}, 2, `unknown command "--verison"; did you mean --version?`},
		{[]string{"serv"}, 2, `unknown command "serv"; did you mean serve?`},
		{[]string{"verfy", "x"}, 2, `unknown command "verfy"; did you mean verify?`},
		{[]string{"zzzzzz"}, 2, `unknown command "zzzzzz"` + "\n"},
		{[]string{"serve", "--adr", ":1"}, 2, "flag provided but not defined: -adr; did you mean --addr?"},
		{[]string{"build", "--dryrun"}, 2, "flag provided but not defined: -dryrun; did you mean --dry-run?"},
		{[]string{"publish", "x", "--verison", "1.0.0"}, 2, "flag provided but not defined: -verison; did you mean --version?"},
		{[]string{"serve", "--config", cfg, "--print-config"}, 1, `unknown key "cors-orgins" (did you mean "cors-origins"?`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			code, _, errOut := cli(t, dir, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("cdnserve %q: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
			}
		})
	}
}

func TestMissingArguments(t *testing.T) {
	t.Parallel()
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
	// An npm registry's user info is redacted too.
	code, out, _ = runBin(t, dir, "add", "npm:x1", "--print-config", "--npm-registry", "https://ci:npm-secret@npm.example/")
	if code != 0 || !strings.Contains(out, `npm-registry: "https://REDACTED@npm.example/"  # flag`) || strings.Contains(out, "npm-secret") {
		t.Errorf("--npm-registry in --print-config:\n%s", out)
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
	t.Parallel()
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
	t.Parallel()
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

// TestSettingsMistakes: a bad value says what the setting takes, from a
// flag or the environment; a misspelt CDNSERVE_ variable is warned of; a
// mistyped flag or command prints its hint and one line on where help
// is, not the whole help (issue 29's polish list).
func TestSettingsMistakes(t *testing.T) {
	dir := t.TempDir()
	withEnv := func(vars map[string]string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, dir: dir,
			getenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
			environ: func() []string {
				var kv []string
				for k, v := range vars {
					kv = append(kv, k+"="+v)
				}
				return kv
			}}
		return run(context.Background(), e, args), out.String(), errb.String()
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		code int
		want string
	}{
		{map[string]string{"CDNSERVE_REFRESH": "abc"}, []string{"serve", "--print-config"}, 1,
			"cdnserve serve: CDNSERVE_REFRESH=\"abc\": not a duration: want a number and a unit, such as 500ms, 10s, 5m or 1h30m\n"},
		{nil, []string{"serve", "--refresh", "abc"}, 2,
			"cdnserve serve: --refresh \"abc\": not a duration: want a number and a unit, such as 500ms, 10s, 5m or 1h30m\nUsage: cdnserve serve [flags] (cdnserve serve -h: its flags and examples)\n"},
		{nil, []string{"serve", "--access-log=maybe"}, 2, "cdnserve serve: --access-log \"maybe\": want true or false\nUsage: cdnserve serve [flags] (cdnserve serve -h: its flags and examples)\n"},
		{nil, []string{"serve", "--adr", ":1"}, 2,
			"cdnserve serve: flag provided but not defined: -adr; did you mean --addr?\nUsage: cdnserve serve [flags] (cdnserve serve -h: its flags and examples)\n"},
		{nil, []string{"--verison"}, 2, "cdnserve: unknown command \"--verison\"; did you mean --version?\nUsage: cdnserve <command> [flags] (cdnserve help: the commands)\n"},
		{nil, []string{"serve", "--print-config"}, 0, ""}, // tokens: "" when no file is set (checked below)
		{map[string]string{"CDNSERVE_REFRES": "1s", "CDNSERVE_TEST_NPM_TOKEN": "x"}, []string{"serve", "--print-config"}, 0,
			"cdnserve serve: warning: CDNSERVE_REFRES is not a setting of this command, and is ignored; did you mean CDNSERVE_REFRESH?\n"},
	} {
		t.Run(strings.Join(tc.args, " ")+fmt.Sprint(len(tc.env)), func(t *testing.T) {
			code, out, errOut := withEnv(tc.env, tc.args...)
			if code == 0 && slices.Contains(tc.args, "--print-config") && (!strings.Contains(out, "tokens: \"\"  # default\n") || strings.Contains(out, "REDACTED")) {
				t.Errorf("--print-config with no tokens file:\n%s", out)
			}
			exact := tc.code == 2 // usage mistakes: nothing but the hint and the line
			if code != tc.code || exact && errOut != tc.want || !exact && !strings.HasPrefix(errOut, tc.want) {
				t.Errorf("%v %v: exit %d\n%q\nwant %d\n%q", tc.env, tc.args, code, errOut, tc.code, tc.want)
			}
		})
	}
}
