package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/layout"
)

// AuditName holds the supply-chain gate's decisions on the bundle's npm
// versions: the lines of the source's audit log (gate.AuditLog) that
// name one of them, one JSON decision a line. What the gate verified of
// each admitted version is also in its manifest's provenance; this
// carries the log itself, refusals and warnings included.
const AuditName = "audit/decisions.jsonl"

// auditOf returns the source's audit lines for the exported versions.
func auditOf(top dist.Tree, items []item) ([]byte, error) {
	want := map[string]bool{}
	for _, it := range items {
		if it.v.Build == "" && it.v.Library != "" {
			want[it.v.Library+"@"+it.v.Version] = true
		}
	}
	log := &gate.AuditLog{Fs: top.Fs, Root: top.Root}
	lines, err := log.Read("")
	if err != nil {
		return nil, fmt.Errorf("reading the gate's audit log: %w", err)
	}
	var b bytes.Buffer
	for _, line := range lines {
		var d gate.Decision
		if json.Unmarshal([]byte(line), &d) == nil && want[d.Package+"@"+d.Version] {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes(), nil
}

// parseAudit reads a bundle's decisions; a line that is not one, or
// names a package cdnserve cannot host, refuses the bundle.
func parseAudit(raw []byte) ([]*gate.Decision, error) {
	var out []*gate.Decision
	for n, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var d gate.Decision
		if err := json.Unmarshal([]byte(line), &d); err != nil || d.Package == "" || layout.CheckLibraryName(d.Package) != nil {
			return nil, &Refused{Reason: fmt.Sprintf("%s:%d: not a decision of the supply-chain gate", AuditName, n+1)}
		}
		out = append(out, &d)
	}
	return out, nil
}

// importAudit appends to the audit log each decision it does not hold
// yet (so that importing again adds nothing), and returns how many.
func importAudit(top dist.Tree, decisions []*gate.Decision) (int, error) {
	if len(decisions) == 0 {
		return 0, nil
	}
	log := &gate.AuditLog{Fs: top.Fs, Root: top.Root}
	lines, err := log.Read("")
	if err != nil {
		return 0, fmt.Errorf("reading the gate's audit log: %w", err)
	}
	have := map[string]bool{}
	for _, l := range lines {
		have[l] = true
	}
	added := 0
	for _, d := range decisions {
		line, _ := json.Marshal(d)
		if have[string(line)] {
			continue
		}
		if err := log.Append(d); err != nil {
			return added, fmt.Errorf("appending to the gate's audit log: %w", err)
		}
		have[string(line)] = true
		added++
	}
	return added, nil
}
