package gate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// noRegistry is a Source for checks that ask the registry nothing.
type noRegistry struct{}

func (noRegistry) RegistryKeys(context.Context, string) ([]byte, error) {
	return nil, errors.New("asked for keys")
}
func (noRegistry) Attestations(context.Context, string) ([]byte, error) {
	return nil, errors.New("asked for attestations")
}

// TestNewMaintainers: a maintainer not on the newest stored version is
// recorded (warn, by default) or refused (require); the decision is one
// line of the audit log either way.
func TestNewMaintainers(t *testing.T) {
	fsys := afero.NewMemMapFs()
	log := &AuditLog{Fs: fsys, Root: "/dist"}
	cand := Candidate{Name: "left-pad", Version: "1.4.0", Integrity: "sha512-x", Maintainers: []string{"azer", "mallory"},
		Previous: &Previous{Version: "1.3.0", Maintainers: []string{"azer"}}}
	for _, tc := range []struct {
		policy  string
		refused bool
	}{{"signatures: off\nprovenance: off\n", false}, {"signatures: off\nprovenance: off\nnew_maintainers: require\n", true}} {
		at := time.Date(2026, 12, 5, 0, 0, len(tc.policy), 0, time.UTC) // one line after the other
		p, err := ParsePolicy("p.yaml", []byte(tc.policy))
		if err != nil {
			t.Fatal(err)
		}
		g, _ := New(Options{Policy: p, Log: log, Clock: func() time.Time { return at }})
		v, err := g.Admit(context.Background(), cand, noRegistry{})
		if tc.refused {
			if err == nil || !strings.Contains(err.Error(), "new-maintainers: maintainers not on 1.3.0: mallory") {
				t.Errorf("require: %v", err)
			}
			continue
		}
		if err != nil || strings.Join(v.NewMaintainers, ",") != "mallory" || len(v.Warnings) != 1 {
			t.Errorf("warn: %+v %v", v, err)
		}
	}
	lines, err := log.Read("left-pad")
	if err != nil || len(lines) != 2 || !strings.Contains(lines[0], `"admitted":true`) || !strings.Contains(lines[1], `"admitted":false`) {
		t.Errorf("log %q %v", lines, err)
	}
}
