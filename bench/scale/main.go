// Command scale measures how cdnserve serve grows with the number of
// published versions: start-up time, memory, /-/versions, and semver
// range resolution, cold and cached, at 10, 1,000 and 10,000 versions;
// and with the number of libraries in one tree (-libraries 1000x20: 1,000
// libraries of 20 versions each, a tenth of them scoped): start-up,
// memory, the size and time of /, /-/libraries, and a range in one
// library.
//
//	go build -o /tmp/cdnserve ./cmd/cdnserve && go run ./bench/scale -bin /tmp/cdnserve
//	go run ./bench/scale -bin /tmp/cdnserve -sizes '' -libraries 1000x20
//
// It generates each tree directly (one small file and a valid integrity
// manifest per version, plus major.minor aliases), so that generating
// 10,000 versions takes seconds; the server reads them as it reads any
// published tree.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/layout"
)

func main() {
	bin := flag.String("bin", "cdnserve", "the cdnserve binary")
	sizes := flag.String("sizes", "10,1000,10000", "numbers of versions (comma-separated; empty for none)")
	libraries := flag.String("libraries", "", "LIBRARIESxVERSIONS trees to measure (comma-separated), such as 1000x20")
	flag.Parse()
	if *sizes != "" {
		fmt.Println("versions | start-up ms | RSS after start MiB | /-/versions ms | range cold ms | range cached ms | RSS after MiB")
	}
	for _, s := range strings.FieldsFunc(*sizes, func(r rune) bool { return r == ',' }) {
		var n int
		fmt.Sscan(s, &n)
		dir, err := os.MkdirTemp("", "cdnscale-")
		if err != nil {
			log.Fatal(err)
		}
		generate(dir, n)
		measure(*bin, dir, n)
		os.RemoveAll(dir)
	}
	if *libraries != "" {
		fmt.Println("libraries x versions | start-up ms | RSS after start MiB | / KB | / ms | /-/libraries ms | range cold ms | range cached ms | RSS after MiB")
	}
	for _, s := range strings.FieldsFunc(*libraries, func(r rune) bool { return r == ',' }) {
		var libs, n int
		if _, err := fmt.Sscanf(s, "%dx%d", &libs, &n); err != nil {
			log.Fatalf("-libraries %q: want LIBRARIESxVERSIONS, such as 1000x20", s)
		}
		dir, err := os.MkdirTemp("", "cdnscale-")
		if err != nil {
			log.Fatal(err)
		}
		for i := range libs {
			generate(filepath.Join(dir, libraryName(i)), n)
		}
		measureLibraries(*bin, dir, libs, n)
		os.RemoveAll(dir)
	}
}

// libraryName is the i-th library's name: every tenth is scoped.
func libraryName(i int) string {
	if i%10 == 9 {
		return fmt.Sprintf("@team-%d/widget-%04d", i%7, i)
	}
	return fmt.Sprintf("lib-%04d", i)
}

// version i is MAJOR.MINOR.PATCH with 10 patches a minor and 100 minors a
// major, so 10,000 versions span majors 0 to 9.
func version(i int) string { return fmt.Sprintf("%d.%d.%d", i/1000, (i/10)%100, i%10) }

func generate(root string, n int) {
	for i := range n {
		v := version(i)
		body := []byte("window.lib = " + fmt.Sprintf("%q", v) + ";\n")
		m := layout.Manifest{Format: layout.ManifestFormat, Version: v, Files: []layout.ManifestFile{{
			Path: "lib.js", Size: int64(len(body)), ContentType: layout.ContentType("lib.js"), SHA256: sha(body), Integrity: layout.SRI(body),
		}}, Provenance: layout.Provenance{Tool: "bench/scale", BuiltAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
		write := func(d string, m layout.Manifest) {
			os.MkdirAll(filepath.Join(root, d), 0o755)
			os.WriteFile(filepath.Join(root, d, "lib.js"), body, 0o644)
			raw, _ := json.Marshal(m)
			os.WriteFile(filepath.Join(root, d, layout.ManifestName), raw, 0o644)
		}
		write(v, m)
		if i%10 == 9 || i == n-1 { // the newest patch of each minor holds its alias
			m.AliasOf = v
			write(v[:strings.LastIndex(v, ".")], m)
		}
	}
}

// started is a serve process over a tree, with its base URL.
type started struct {
	cmd     *exec.Cmd
	base    string
	startup time.Duration
}

// start runs serve over root and waits for the start-up text's "Local:"
// line, which has the URL to use from this machine.
func start(bin, root string) *started {
	cmd := exec.Command(bin, "serve", "--storage", root, "--addr", "127.0.0.1:0", "--access-log=false")
	out, _ := cmd.StdoutPipe()
	t := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	lines := bufio.NewReader(out)
	s := &started{cmd: cmd}
	for s.base == "" {
		line, err := lines.ReadString('\n')
		if err != nil {
			log.Fatal(err)
		}
		if u, ok := strings.CutPrefix(line, "  Local:    "); ok {
			s.base = strings.TrimSuffix(strings.TrimSpace(u), "/")
		}
	}
	s.startup = time.Since(t)
	go io.Copy(io.Discard, lines) // the rest of the start-up text
	return s
}

// timed gets a URL, without following redirects, and returns how long it
// took and how many body bytes came.
func (s *started) timed(path string) (time.Duration, int64) {
	t := time.Now()
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(s.base + path)
	if err != nil {
		log.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		log.Fatalf("%s: %s", path, resp.Status)
	}
	return time.Since(t), n
}

func measure(bin, root string, n int) {
	s := start(bin, root)
	defer s.cmd.Process.Kill()
	rss0 := rss(s.cmd.Process.Pid)
	versions, _ := s.timed("/-/versions")
	oldest := "/%3C%3D0.0.1/lib.js" // "<=0.0.1": the worst case, every newer version is checked
	cold, _ := s.timed(oldest)
	cached, _ := s.timed(oldest)
	fmt.Printf("%8d | %11.1f | %18.1f | %14.1f | %13.2f | %15.2f | %13.1f\n", n, ms(s.startup), rss0, ms(versions), ms(cold), ms(cached), rss(s.cmd.Process.Pid))
}

// measureLibraries serves a tree of many libraries: start-up, memory, /
// (its size too), /-/libraries, and a range in the last library, cold
// and cached.
func measureLibraries(bin, root string, libs, n int) {
	s := start(bin, root)
	defer s.cmd.Process.Kill()
	rss0 := rss(s.cmd.Process.Pid)
	index, size := s.timed("/")
	libraries, _ := s.timed("/-/libraries")
	r := "/" + libraryName(libs-1) + "/%3C%3D0.0.1/lib.js"
	cold, _ := s.timed(r)
	cached, _ := s.timed(r)
	fmt.Printf("%9d x %8d | %11.1f | %18.1f | %4.1f | %4.1f | %15.1f | %13.2f | %15.2f | %13.1f\n", libs, n, ms(s.startup), rss0, float64(size)/1024, ms(index), ms(libraries), ms(cold), ms(cached), rss(s.cmd.Process.Pid))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rss reads a process's resident set size, in MiB, from /proc.
func rss(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "VmRSS:"), "kB")), &kb)
			return kb / 1024
		}
	}
	return 0
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
