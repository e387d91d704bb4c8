package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/internal/settings"
)

// cliEnv runs one command line in-process with an environment.
func cliEnv(t *testing.T, dir string, environ map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := environ[k]; return v, ok }
	code = run(context.Background(), &env{stdout: &out, stderr: &errb, dir: dir, getenv: lookup}, args)
	return code, out.String(), errb.String()
}

var printedSetting = regexp.MustCompile(`(?m)^([a-z0-9-]+): ("(?:[^"\\]|\\.)*")  # (.*)$`)

// printConfig runs a command with --print-config and returns each
// setting's value and source.
func printConfig(t *testing.T, dir string, environ map[string]string, args ...string) (values, sources map[string]string) {
	t.Helper()
	code, out, errOut := cliEnv(t, dir, environ, append(args, "--print-config")...)
	if code != 0 {
		t.Fatalf("%q --print-config: exit %d\n%s", args, code, errOut)
	}
	values, sources = map[string]string{}, map[string]string{}
	for _, m := range printedSetting.FindAllStringSubmatch(out, -1) {
		v, err := strconv.Unquote(m[2])
		if err != nil {
			t.Fatalf("unquoting %s: %v", m[2], err)
		}
		values[m[1]], sources[m[1]] = v, m[3]
	}
	if len(values) == 0 {
		t.Fatalf("%q --print-config printed no settings:\n%s", args, out)
	}
	return values, sources
}

// checkedAtStart are values for the flags whose value is read and
// checked before --print-config prints (the gate's policy).
var checkedAtStart = map[string]string{"policy": "policy.yaml", "npm-min-age": "72h"}

// TestEveryFlagFromEnvAndConfig: for every command, every flag can be set
// as CDNSERVE_<FLAG> and as a key of the --config file, with the same
// precedence: the flag, then the environment, then the file.
func TestEveryFlagFromEnvAndConfig(t *testing.T) {
	seed := seedProject(t)
	os.WriteFile(filepath.Join(seed, "policy.yaml"), []byte("signatures: auto\n"), 0o644)
	argsOf := map[string][]string{"init": {"x"}, "publish": {"src"}, "fetch": {"json2"}, "add": {"npm:x1"}, "purge": {"x@1.0"}, "importmap": {"x@1"}, "token": {"create"}, "sign": {"/x"}, "stats": {"x"}, "deprecate": {"x@1.0.0"}, "undeprecate": {"x@1.0.0"}, "prune": {"x@1.0.0"}, "private": {"x"}, "public": {"x"}, "import": {"site.tar"}}
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			base := append([]string{c.name}, argsOf[c.name]...)
			defaults, _ := printConfig(t, seed, nil, base...)
			if _, ok := defaults["config"]; !ok {
				t.Fatalf("%s has no --config", c.name)
			}
			for name, v := range defaults {
				if name == "config" {
					continue // CDNSERVE_CONFIG names the file itself: TestConfigPrecedence
				}
				if v == "" {
					v = "x"
				}
				if valid, ok := checkedAtStart[name]; ok {
					v = valid // read and checked before --print-config prints
				}
				key := settings.EnvName(name)
				_, src := printConfig(t, seed, map[string]string{key: v}, base...)
				if src[name] != "env "+key {
					t.Errorf("%s --%s from %s: source %q", c.name, name, key, src[name])
				}
				cfg := filepath.Join(t.TempDir(), "c.yaml")
				os.WriteFile(cfg, []byte(name+": "+strconv.Quote(v)+"\n"), 0o644)
				_, src = printConfig(t, seed, nil, append(base, "--config", cfg)...)
				if src[name] != "config "+cfg+":1" {
					t.Errorf("%s --%s from the config file: source %q", c.name, name, src[name])
				}
				_, src = printConfig(t, seed, map[string]string{key: v, "CDNSERVE_CONFIG": cfg}, base...)
				if src[name] != "env "+key {
					t.Errorf("%s --%s: the environment must beat the config file; source %q", c.name, name, src[name])
				}
			}
		})
	}
}

// TestStorageEverywhere: every command that reads or writes a tree takes
// --storage and CDNSERVE_STORAGE; --root is a deprecated alias that warns
// once; verify's argument is a shorthand.
func TestStorageEverywhere(t *testing.T) {
	seed := seedProject(t)
	other := filepath.Join(seed, "elsewhere")
	for _, args := range [][]string{{"serve"}, {"build"}, {"publish", "src", "--version", "1.0.0"}, {"verify"}} {
		values, src := printConfig(t, seed, map[string]string{"CDNSERVE_STORAGE": other}, args...)
		if values["storage"] != other || src["storage"] != "env CDNSERVE_STORAGE" {
			t.Errorf("%s: storage %q from %q", args[0], values["storage"], src["storage"])
		}
		code, out, errOut := cliEnv(t, seed, nil, append(args, "--root", other, "--print-config")...)
		if code != 0 || strings.Count(errOut, "--root (flag) is deprecated; use --storage") != 1 || !strings.Contains(out, `storage: "`+other+`"  # flag (as --root)`) {
			t.Errorf("%s --root: exit %d\nstdout %s\nstderr %s", args[0], code, out, errOut)
		}
		code, _, errOut = cliEnv(t, seed, map[string]string{"CDNSERVE_ROOT": other}, append(args, "--storage", other)...)
		if code != 1 || !strings.Contains(errOut, "--root (env CDNSERVE_ROOT) and --storage (flag) both given") {
			t.Errorf("%s --storage with CDNSERVE_ROOT: exit %d, %s", args[0], code, errOut)
		}
	}
	values, src := printConfig(t, seed, nil, "verify", other)
	if values["storage"] != other || src["storage"] != "argument" {
		t.Errorf("verify DIR: storage %q from %q", values["storage"], src["storage"])
	}
	// A deprecated --root still publishes where it says.
	code, _, errOut := cli(t, seed, "build", "--quiet", "--root", other)
	if code != 0 || !strings.Contains(errOut, "deprecated") {
		t.Fatalf("build --root: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(other, "2.2.3", "_cdnserve.json")); err != nil {
		t.Errorf("build --root did not publish there: %v", err)
	}
}

// TestPrintConfigShowsEffectiveValues: derived defaults are shown as they
// are in force, with why.
func TestPrintConfigShowsEffectiveValues(t *testing.T) {
	seed := seedProject(t)
	empty := t.TempDir()
	for _, tc := range []struct {
		dir    string
		args   []string
		name   string
		value  string
		source string
	}{
		{empty, []string{"serve"}, "refresh", "2s", "default"},
		{empty, []string{"serve", "--storage", "s3://bucket/p?region=eu"}, "refresh", "10s", "default: on S3, each refresh lists the bucket"},
		{empty, []string{"serve", "--storage", "s3://bucket/p?region=eu", "--refresh", "1s"}, "refresh", "1s", "flag"},
		{empty, []string{"serve"}, "storage", "mem://", "default: ./dist holds no published version: the embedded demo"},
		{seed, []string{"build"}, "storage", filepath.Join(seed, "dist"), "default: the manifest's target_dir"},
		{empty, []string{"publish", "x"}, "storage", "dist", "default"},
		{empty, []string{"serve"}, "cache-mb", "256", "default"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			values, src := printConfig(t, tc.dir, nil, tc.args...)
			if values[tc.name] != tc.value || src[tc.name] != tc.source {
				t.Errorf("%q: %s = %q (%s), want %q (%s)", tc.args, tc.name, values[tc.name], src[tc.name], tc.value, tc.source)
			}
		})
	}
}
