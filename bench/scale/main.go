// Command scale measures how cdnserve serve grows with the number of
// published versions: start-up time, memory, /-/versions, and semver
// range resolution, cold and cached, at 10, 1,000 and 10,000 versions.
//
//	go build -o /tmp/cdnserve ./cmd/cdnserve && go run ./bench/scale -bin /tmp/cdnserve
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
	sizes := flag.String("sizes", "10,1000,10000", "numbers of versions")
	flag.Parse()
	fmt.Println("versions | start-up ms | RSS after start MiB | /-/versions ms | range cold ms | range cached ms | RSS after MiB")
	for _, s := range strings.Split(*sizes, ",") {
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

func measure(bin, root string, n int) {
	cmd := exec.Command(bin, "serve", "--storage", root, "--addr", "127.0.0.1:0", "--access-log=false")
	out, _ := cmd.StdoutPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The start-up text says where serve listens; the "Local:" line has
	// the URL to use from this machine.
	lines := bufio.NewReader(out)
	var base string
	for base == "" {
		line, err := lines.ReadString('\n')
		if err != nil {
			log.Fatal(err)
		}
		if u, ok := strings.CutPrefix(line, "  Local:    "); ok {
			base = strings.TrimSuffix(strings.TrimSpace(u), "/")
		}
	}
	startup := time.Since(start)
	go io.Copy(io.Discard, lines) // the rest of the start-up text
	rss0 := rss(cmd.Process.Pid)
	timed := func(url string) time.Duration {
		t := time.Now()
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(url)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(t)
	}
	versions := timed(base + "/-/versions")
	oldest := base + "/%3C%3D0.0.1/lib.js" // "<=0.0.1": the worst case, every newer version is checked
	cold, cached := timed(oldest), timed(oldest)
	fmt.Printf("%8d | %11.1f | %18.1f | %14.1f | %13.2f | %15.2f | %13.1f\n", n, ms(startup), rss0, ms(versions), ms(cold), ms(cached), rss(cmd.Process.Pid))
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
