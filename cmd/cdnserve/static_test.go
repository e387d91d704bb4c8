package main

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dockerBuildFlags reads the go build command of the Dockerfile's build
// stage, so that the test builds the binary the image would hold.
func dockerBuildFlags(t *testing.T) (env []string, ldflags string) {
	t.Helper()
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`RUN (CGO_ENABLED=0) go build -trimpath -ldflags "([^"]+)" -o /out/cdnserve ./cmd/cdnserve`).FindStringSubmatch(string(df))
	if m == nil {
		t.Fatal("the Dockerfile does not build with CGO_ENABLED=0 go build -trimpath -ldflags \"...\": update this test with it")
	}
	ld := strings.NewReplacer("${VERSION}", "9.9.9-image", "${COMMIT}", "abc1234").Replace(m[2])
	if !strings.HasPrefix(ld, "-s -w ") {
		t.Fatalf("Dockerfile ldflags %q do not strip (-s -w)", m[2])
	}
	return []string{m[1]}, ld
}

// TestStaticBinaryInEmptyRoot proves what the image holds without a
// Docker engine: the binary built with the Dockerfile's flags is static,
// and it serves, answers its HEALTHCHECK and reports its version from a
// root that holds only itself, CA certificates and a dist tree, as the
// image's non-root user, configured by CDNSERVE_* variables alone. A
// binary that needs anything more (a dynamic loader, libc) fails here.
func TestStaticBinaryInEmptyRoot(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run as root: chroot needs it")
		}
		t.Skip("SKIPPED LOUDLY: chroot needs root; the image's contents were not checked")
	}
	env, ldflags := dockerBuildFlags(t)
	root := t.TempDir()
	os.Chmod(root, 0o755)
	bin := filepath.Join(root, "cdnserve")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, ".")
	build.Env = append(os.Environ(), env...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	checkStatic(t, bin)

	// The image: the binary, CA certificates, and a dist tree.
	os.MkdirAll(filepath.Join(root, "etc/ssl/certs"), 0o755)
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatalf("no CA bundle on this machine to put in the root: %v", err)
	}
	os.WriteFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"), certs, 0o644)
	project := seedProject(t)
	if code, _, errOut := cli(t, project, "build", "--quiet", "--storage", filepath.Join(root, "srv/dist")); code != 0 {
		t.Fatal(errOut)
	}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			os.Chmod(p, fi.Mode()|0o444|map[bool]os.FileMode{true: 0o111}[fi.IsDir()])
		}
		return nil
	})
	if got := listFiles(t, root); len(got) != 2+len(listFiles(t, filepath.Join(root, "srv/dist"))) {
		t.Fatalf("the root holds more than the image would: %q", got)
	}

	port := freePort(t)
	imageEnv := []string{"CDNSERVE_STORAGE=/srv/dist", "CDNSERVE_ADDR=127.0.0.1:" + port, "CDNSERVE_LOG_FORMAT=json"}
	inRoot := func(args ...string) *exec.Cmd {
		cmd := exec.Command("/cdnserve", args...)
		cmd.Env = imageEnv // nothing else: no PATH, no HOME, as in the image
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
		return cmd
	}
	if out, err := inRoot("version").CombinedOutput(); err != nil || !strings.Contains(string(out), "cdnserve 9.9.9-image\ncommit abc1234\n") {
		t.Fatalf("version in the root: %v\n%s", err, out)
	}
	srv := inRoot("serve")
	var logs strings.Builder
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(10 * time.Second)
	for {
		if out, err := inRoot("healthcheck").CombinedOutput(); err == nil {
			if !strings.Contains(string(out), "healthy: GET http://127.0.0.1:"+port+"/-/healthz answered 200 OK") {
				t.Errorf("healthcheck output %q", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve in the root did not become healthy:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, body := get(t, base+"/2.2.3/pusher.min.js")
	want, _ := os.ReadFile(filepath.Join(root, "srv/dist/2.2.3/pusher.min.js"))
	if resp.StatusCode != 200 || body != string(want) {
		t.Errorf("GET in the root: %d, %d bytes", resp.StatusCode, len(body))
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()
	// Read once serve has exited: a request is logged after its response
	// is sent, so a read right after the GET could come first.
	if !strings.Contains(logs.String(), `"msg":"request"`) {
		t.Errorf("no JSON access log from the root:\n%s", logs.String())
	}
	if err := inRoot("healthcheck").Run(); err == nil {
		t.Error("healthcheck exited 0 with the server stopped")
	}

	// Control: a binary that needs the C library cannot start in this
	// root, so the check above would catch one.
	dynamic := filepath.Join(root, "cdnserve-cgo")
	cgo := exec.Command("go", "build", "-o", dynamic, ".")
	cgo.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cgo.CombinedOutput(); err != nil {
		t.Fatalf("go build (cgo): %v\n%s", err, out)
	}
	ctl := inRoot("version")
	ctl.Path = "/cdnserve-cgo"
	ctl.Args[0] = "/cdnserve-cgo"
	if out, err := ctl.CombinedOutput(); err == nil {
		t.Errorf("a cgo binary ran in the empty root, so the root proves nothing: %s", out)
	}
}

// checkStatic asserts that a binary has no ELF interpreter and needs no
// shared library, and was built without cgo and with -trimpath.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: it is dynamically linked", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %q", bin, libs)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("build settings CGO_ENABLED=%q -trimpath=%q, want 0 and true", settings["CGO_ENABLED"], settings["-trimpath"])
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s keeps its symbol table: -s did not apply", bin)
	}
}
