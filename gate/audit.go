package gate

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// AuditDir is the audit log's directory under the dist root. Its name
// starts with a dot, so it is no library.
const AuditDir = ".audit"

// AuditLog is the gate's append-only log in storage: every decision is
// one JSON line, written as its own object
// (.audit/<YYYY-MM-DD>/<time>-<random>.jsonl), so that replicas sharing
// a bucket never rewrite one another's lines and an object store, which
// cannot append, holds it as well as a disk. Nothing ever removes or
// changes a line.
type AuditLog struct {
	Fs   afero.Fs
	Root string
}

// Append writes one decision.
func (l *AuditLog) Append(d *Decision) error {
	line, err := json.Marshal(d)
	if err != nil {
		return err
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	day := d.Time.Format("2006-01-02")
	name := path.Join(l.Root, AuditDir, day, d.Time.Format("20060102T150405.000000000Z")+"-"+hex.EncodeToString(rnd[:])+".jsonl")
	if err := l.Fs.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	return layout.WriteFileAtomic(l.Fs, name, append(line, '\n'))
}

// Read returns the log's lines, oldest first; pkg, when set, keeps those
// of one package. A line that is not a decision is an error naming its
// object.
func (l *AuditLog) Read(pkg string) ([]string, error) {
	dir := path.Join(l.Root, AuditDir)
	days, err := afero.ReadDir(l.Fs, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, day := range days {
		if !day.IsDir() {
			continue
		}
		entries, err := afero.ReadDir(l.Fs, path.Join(dir, day.Name()))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".jsonl") {
				names = append(names, path.Join(dir, day.Name(), e.Name()))
			}
		}
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		data, err := afero.ReadFile(l.Fs, n)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var d Decision
			if err := json.Unmarshal([]byte(line), &d); err != nil || d.Package == "" {
				return nil, fmt.Errorf("%s: not a decision of the supply-chain gate", n)
			}
			if pkg == "" || d.Package == pkg {
				out = append(out, line)
			}
		}
	}
	return out, nil
}
