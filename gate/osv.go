package gate

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// OSV is an OSV database for npm, read from a file: OSV's JSON records
// (osv.dev's schema), in a .json file (one record or a list), a
// directory of them, or OSV's all.zip. Its MAL- records come from
// OpenSSF's malicious-packages.
type OSV struct {
	// Path is where it was read from; Digest names its contents (the
	// audit log records it, so a decision says which database made it).
	Path, Digest string
	// Records is how many npm records it holds.
	Records int
	byName  map[string][]*osvRecord
}

// Advisory is an OSV record that affects a version.
type Advisory struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases,omitempty"`
	Summary  string   `json:"summary,omitempty"`
	Severity Severity `json:"severity"`
	// Malware is a MAL- record: the version is malicious.
	Malware bool `json:"malware,omitempty"`
}

type osvRecord struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases"`
	Summary   string   `json:"summary"`
	Withdrawn string   `json:"withdrawn"`
	Affected  []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced   string `json:"introduced"`
				Fixed        string `json:"fixed"`
				LastAffected string `json:"last_affected"`
			} `json:"events"`
		} `json:"ranges"`
		Versions []string `json:"versions"`
	} `json:"affected"`
	DatabaseSpecific struct {
		Severity string `json:"severity"`
	} `json:"database_specific"`
}

// maxOSVBytes bounds one record file.
const maxOSVBytes = 16 << 20

// LoadOSV reads a database; errors name the file.
func LoadOSV(path string) (*OSV, error) {
	db := &OSV{Path: path, byName: map[string][]*osvRecord{}}
	h := sha256.New()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--osv-db %s: %w", path, err)
	}
	add := func(name string, r io.Reader) error {
		data, err := io.ReadAll(io.LimitReader(r, maxOSVBytes+1))
		if err != nil {
			return fmt.Errorf("--osv-db %s: %w", name, err)
		}
		if len(data) > maxOSVBytes {
			return fmt.Errorf("--osv-db %s: larger than %d MB", name, maxOSVBytes>>20)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(name), len(data))
		h.Write(data)
		return db.add(name, data)
	}
	switch {
	case fi.IsDir():
		var files []string
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".json") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("--osv-db %s: %w", path, err)
		}
		sort.Strings(files)
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				return nil, fmt.Errorf("--osv-db %s: %w", f, err)
			}
			err = add(f, fh)
			fh.Close()
			if err != nil {
				return nil, err
			}
		}
	case strings.HasSuffix(path, ".zip"):
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("--osv-db %s: not a zip of OSV records: %w", path, err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".json") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("--osv-db %s: %s: %w", path, f.Name, err)
			}
			err = add(path+":"+f.Name, rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
	default:
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--osv-db %s: %w", path, err)
		}
		defer fh.Close()
		if err := add(path, fh); err != nil {
			return nil, err
		}
	}
	db.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil)[:8])
	return db, nil
}

func (db *OSV) add(name string, data []byte) error {
	var records []*osvRecord
	if trimmed := strings.TrimSpace(string(data)); strings.HasPrefix(trimmed, "[") {
		if err := json.Unmarshal(data, &records); err != nil {
			return fmt.Errorf("--osv-db %s: not a list of OSV records: %v", name, err)
		}
	} else {
		var r osvRecord
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("--osv-db %s: not an OSV record: %v", name, err)
		}
		records = []*osvRecord{&r}
	}
	for _, r := range records {
		if r.ID == "" {
			return fmt.Errorf("--osv-db %s: a record has no id", name)
		}
		if r.Withdrawn != "" {
			continue
		}
		seen := map[string]bool{}
		for _, a := range r.Affected {
			if a.Package.Ecosystem != "npm" || seen[a.Package.Name] {
				continue
			}
			seen[a.Package.Name] = true
			db.byName[a.Package.Name] = append(db.byName[a.Package.Name], r)
			db.Records++
		}
	}
	return nil
}

// Affecting lists the records that affect a version of a package.
func (db *OSV) Affecting(name, version string) []Advisory {
	if db == nil {
		return nil
	}
	v, err := semver.StrictNewVersion(version)
	if err != nil {
		return nil
	}
	var out []Advisory
	for _, r := range db.byName[name] {
		if !r.affects(name, version, v) {
			continue
		}
		sev, err := ParseSeverity(r.DatabaseSpecific.Severity)
		if err != nil {
			sev = 0 // unknown: counts as at any threshold (Severity.atLeast)
		}
		out = append(out, Advisory{ID: r.ID, Aliases: r.Aliases, Summary: r.Summary, Severity: sev, Malware: strings.HasPrefix(r.ID, "MAL-")})
	}
	return out
}

// atLeast reports whether an advisory's severity reaches a threshold;
// an advisory that gives none is not assumed safe: it reaches any.
func (s Severity) atLeast(threshold Severity) bool { return s == 0 || s >= threshold }

// affects evaluates a record's ranges as OSV's schema says: the events
// of a range, sorted by version, switch a version in (introduced) and
// out (fixed, or past last_affected); the versions list names more.
func (r *osvRecord) affects(name, raw string, v *semver.Version) bool {
	for _, a := range r.Affected {
		if a.Package.Ecosystem != "npm" || a.Package.Name != name {
			continue
		}
		for _, listed := range a.Versions {
			if listed == raw {
				return true
			}
		}
		for _, rg := range a.Ranges {
			if rg.Type != "SEMVER" && rg.Type != "ECOSYSTEM" {
				continue
			}
			type event struct {
				at   *semver.Version
				kind string
			}
			var evs []event
			for _, e := range rg.Events {
				kind, s := "introduced", e.Introduced
				switch {
				case e.Fixed != "":
					kind, s = "fixed", e.Fixed
				case e.LastAffected != "":
					kind, s = "last_affected", e.LastAffected
				}
				if s == "0" {
					s = "0.0.0-0"
				}
				ev, err := semver.NewVersion(s)
				if err != nil {
					continue
				}
				evs = append(evs, event{ev, kind})
			}
			sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.LessThan(evs[j].at) })
			in := false
			for _, e := range evs {
				switch e.kind {
				case "introduced":
					if !v.LessThan(e.at) {
						in = true
					}
				case "fixed":
					if !v.LessThan(e.at) {
						in = false
					}
				case "last_affected":
					if v.GreaterThan(e.at) {
						in = false
					}
				}
			}
			if in {
				return true
			}
		}
	}
	return false
}
