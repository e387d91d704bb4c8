// Package gate is cdnserve's supply-chain gate: it decides, once, before
// anything of an npm package version is stored, whether the version may
// come in. It checks the registry's signature over the version's
// integrity, its Sigstore provenance (verified offline, with sigstore-go
// and a trusted root), an OSV database's malware and advisories, its
// age, its licence, and records install scripts and new maintainers.
// Each check is off, warn or require, for every package or by pattern
// (Policy). Every decision, admitted or refused, is one line in an
// append-only audit log in storage (AuditLog).
//
// The gate runs wherever a version comes in: cdnserve add, a build's
// from: npm:, the mirror, and the dependencies an import map's graph
// pulls in (all through npm.Client).
package gate

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	_ "embed"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// Candidate is what the gate knows of a version before it is fetched:
// the registry's document entry, and what storage holds of the package.
type Candidate struct {
	Name, Version string
	// Integrity is the registry's dist.integrity (sha512-…): the tarball
	// is verified against it, so what is signed and attested over it
	// holds for the bytes stored.
	Integrity string
	// Registry is the registry's base URL ("https://registry.npmjs.org/").
	Registry string
	// Published is the document's time[version]; zero when it has none.
	Published time.Time
	// Signatures are dist.signatures.
	Signatures []Signature
	// Attestations is dist.attestations.url, or "".
	Attestations string
	License      string
	// Scripts are the install scripts the version runs (preinstall,
	// install, postinstall) that npm would run.
	Scripts []string
	// Maintainers are the version's maintainers' names.
	Maintainers []string
	// Previous are the maintainers recorded for the newest version
	// storage holds; nil when it holds none.
	Previous *Previous
}

// Previous is what storage recorded of the newest stored version.
type Previous struct {
	Version     string
	Maintainers []string
}

// Signature is one of dist.signatures.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// Source fetches what the gate needs from a registry, with the
// registry's token and retries (npm.Client).
type Source interface {
	// RegistryKeys returns the body of the registry's /-/npm/v1/keys; its
	// error is fs.ErrNotExist when the registry publishes none.
	RegistryKeys(ctx context.Context, registry string) ([]byte, error)
	// Attestations returns the body of an attestations URL.
	Attestations(ctx context.Context, url string) ([]byte, error)
}

// Options make a Gate.
type Options struct {
	Policy *Policy
	// Log is the audit log; nil keeps none (tests).
	Log *AuditLog
	// Logger says what a warning found, and that a registry publishes no
	// keys (once per registry).
	Logger *slog.Logger
	// Clock is the time (default time.Now).
	Clock func() time.Time
}

// Gate decides. Make one with New.
type Gate struct {
	policy  *Policy
	log     *AuditLog
	logger  *slog.Logger
	clock   func() time.Time
	digest  string
	db      *OSV
	pinned  *keySet
	trusted *root.TrustedRoot

	mu      sync.Mutex
	keys    map[string]cachedKeys
	decided map[string]*Decision
}

//go:embed trusted_root.json
var publicGoodRoot []byte

// New loads what the policy names (the OSV database, pinned keys, a
// trusted root), so that a bad file fails at start, named.
func New(o Options) (*Gate, error) {
	p := o.Policy
	if p == nil {
		p = &Policy{Source: "defaults"}
	}
	g := &Gate{policy: p, log: o.Log, logger: o.Logger, clock: o.Clock, digest: p.Digest(),
		keys: map[string]cachedKeys{}, decided: map[string]*Decision{}}
	if g.clock == nil {
		g.clock = time.Now
	}
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if p.OSVDB != "" {
		if g.db, err = LoadOSV(p.OSVDB); err != nil {
			return nil, err
		}
	}
	if p.Keys != "" {
		data, err := os.ReadFile(p.Keys)
		if err != nil {
			return nil, fmt.Errorf("the pinned registry keys: %w", err)
		}
		if g.pinned, err = parseKeys(p.Keys, data); err != nil {
			return nil, err
		}
	}
	rootJSON, rootName := publicGoodRoot, "the embedded Sigstore public-good trusted root"
	if p.TrustedRoot != "" {
		if rootJSON, err = os.ReadFile(p.TrustedRoot); err != nil {
			return nil, fmt.Errorf("the Sigstore trusted root: %w", err)
		}
		rootName = p.TrustedRoot
	}
	if g.trusted, err = root.NewTrustedRootFromJSON(rootJSON); err != nil {
		return nil, fmt.Errorf("%s: not a Sigstore trusted root: %w", rootName, err)
	}
	return g, nil
}

// Policy is the policy in force.
func (g *Gate) Policy() *Policy { return g.policy }

// Fingerprint names what a decision depends on besides the version: the
// policy and the database. An admission holds while it is the same.
func (g *Gate) Fingerprint() string {
	if g.db != nil {
		return g.digest + " " + g.db.Digest
	}
	return g.digest
}

// Database is the OSV database, or nil.
func (g *Gate) Database() *OSV { return g.db }

// Decision is what the gate decided of one version: one line of the
// audit log.
type Decision struct {
	Time      time.Time `json:"time"`
	Package   string    `json:"package"`
	Version   string    `json:"version"`
	Integrity string    `json:"integrity"`
	Registry  string    `json:"registry,omitempty"`
	Admitted  bool      `json:"admitted"`
	Checks    []Result  `json:"checks"`
	// Policy names the policy in force (Policy.Digest) and where it came
	// from; Database the OSV database's digest.
	Policy       string `json:"policy"`
	PolicySource string `json:"policy_source"`
	Database     string `json:"osv_db,omitempty"`
	// Verified is what a version page shows; kept in the provenance.
	Verified *layout.Verified `json:"-"`
}

// Result is one check's outcome: pass, warn (found, admitted by policy),
// fail (refused), absent (nothing to check: no provenance) or off.
type Result struct {
	Check   string `json:"check"`
	Level   string `json:"level"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
}

// Outcomes of a check.
const (
	Pass   = "pass"
	Warned = "warn"
	Fail   = "fail"
	Absent = "absent"
	NotRun = "off"
	// forged is a check's own outcome for evidence of tampering (a
	// provenance that is there and does not verify): Fail at any level.
	forged = "forged"
)

// Refused is a version the gate refused. A server answers 403 with
// Body; add and build exit non-zero with Error.
type Refused struct{ Decision *Decision }

func (r *Refused) Error() string {
	var why []string
	for _, c := range r.Decision.Checks {
		if c.Outcome == Fail {
			why = append(why, c.Check+": "+c.Detail)
		}
	}
	return fmt.Sprintf("npm package %s@%s refused by the supply-chain gate: %s (policy %s, %s; nothing was stored)",
		r.Decision.Package, r.Decision.Version, strings.Join(why, "; "), r.Decision.Policy, r.Decision.PolicySource)
}

// GateRefusal is the JSON a server answers with: the decision.
func (r *Refused) GateRefusal() any {
	return map[string]any{"error": r.Error(), "status": 403, "package": r.Decision.Package, "version": r.Decision.Version,
		"checks": r.Decision.Checks, "policy": r.Decision.Policy}
}

// maxDecided bounds the refusals kept in memory.
const maxDecided = 10_000

// Admit runs the checks in force for a candidate, records the decision
// in the audit log, and returns what was verified (for the provenance),
// or a *Refused. A refusal is final for that version, integrity and
// policy: asked again, it is answered from memory, not checked or
// logged again. Any other error is a registry or storage that failed:
// nothing was decided.
func (g *Gate) Admit(ctx context.Context, c Candidate, src Source) (*layout.Verified, error) {
	key := c.Name + "@" + c.Version + "\x00" + c.Integrity + "\x00" + g.digest
	g.mu.Lock()
	if d, ok := g.decided[key]; ok {
		g.mu.Unlock()
		return nil, &Refused{d}
	}
	g.mu.Unlock()
	d, err := g.decide(ctx, c, src)
	if err != nil {
		return nil, err
	}
	if g.log != nil {
		if err := g.log.Append(d); err != nil {
			return nil, fmt.Errorf("%s@%s: the audit log: %w (nothing was stored)", c.Name, c.Version, err)
		}
	}
	for _, r := range d.Checks {
		if r.Outcome == Warned {
			g.logger.Warn("the supply-chain gate admitted a package with a warning", "package", c.Name, "version", c.Version, "check", r.Check, "detail", r.Detail)
		}
	}
	if !d.Admitted {
		g.mu.Lock()
		if len(g.decided) >= maxDecided {
			clear(g.decided)
		}
		g.decided[key] = d
		g.mu.Unlock()
		g.logger.Info("the supply-chain gate refused a package", "package", c.Name, "version", c.Version, "policy", g.digest)
		return nil, &Refused{d}
	}
	return d.Verified, nil
}

// decide runs every check.
func (g *Gate) decide(ctx context.Context, c Candidate, src Source) (*Decision, error) {
	checks := g.policy.For(c.Name)
	d := &Decision{Time: g.clock().UTC(), Package: c.Name, Version: c.Version, Integrity: c.Integrity, Registry: c.Registry,
		Policy: g.digest, PolicySource: g.policy.Source, Verified: &layout.Verified{Policy: g.digest, License: c.License}}
	if g.db != nil {
		d.Database = g.db.Digest
	}
	add := func(name string, level Level, outcome, detail string) {
		switch {
		case outcome == forged:
			outcome = Fail // refused at every level but off
		case outcome == Fail && level != Require && level != Auto:
			outcome = Warned
		}
		d.Checks = append(d.Checks, Result{Check: name, Level: level.String(), Outcome: outcome, Detail: detail})
		if outcome == Warned {
			d.Verified.Warnings = append(d.Verified.Warnings, name+": "+detail)
		}
	}
	if err := g.checkSignatures(ctx, c, checks, src, d, add); err != nil {
		return nil, err
	}
	if err := g.checkProvenance(ctx, c, checks, src, d, add); err != nil {
		return nil, err
	}
	g.checkAdvisories(c, checks, d, add)
	g.checkAge(c, checks, add)
	g.checkLicense(c, checks, add)
	g.checkSignals(c, checks, d, add)
	d.Admitted = !slices.ContainsFunc(d.Checks, func(r Result) bool { return r.Outcome == Fail })
	return d, nil
}

type addFunc func(name string, level Level, outcome, detail string)

func (g *Gate) checkAdvisories(c Candidate, checks Checks, d *Decision, add addFunc) {
	if g.db == nil {
		return // no database: nothing to check against (docs/security.md)
	}
	var mal, adv []string
	for _, a := range g.db.Affecting(c.Name, c.Version) {
		d.Verified.Advisories = append(d.Verified.Advisories, a.ID)
		switch {
		case a.Malware:
			mal = append(mal, a.ID)
		case a.Severity.atLeast(checks.Severity):
			adv = append(adv, fmt.Sprintf("%s (%s): %s", a.ID, a.Severity, a.Summary))
		}
	}
	if checks.Malware != Off {
		if len(mal) > 0 {
			add("malware", checks.Malware, Fail, "reported as malicious: "+strings.Join(mal, ", "))
		} else {
			add("malware", checks.Malware, Pass, "no malware entry in "+g.db.Digest)
		}
	}
	if checks.Advisories != Off {
		if len(adv) > 0 {
			add("advisories", checks.Advisories, Fail, fmt.Sprintf("advisories at or above %s: %s", checks.Severity, strings.Join(adv, "; ")))
		} else {
			add("advisories", checks.Advisories, Pass, fmt.Sprintf("none at or above %s", checks.Severity))
		}
	}
}

func (g *Gate) checkAge(c Candidate, checks Checks, add addFunc) {
	if checks.MinAge <= 0 || checks.Age == Off {
		return
	}
	if c.Published.IsZero() {
		add("min-age", checks.Age, Fail, "the registry's document gives no publish time (time) for this version, so its age is unknown")
		return
	}
	age := g.clock().Sub(c.Published)
	if age < checks.MinAge {
		eligible := c.Published.Add(checks.MinAge).UTC()
		add("min-age", checks.Age, Fail, fmt.Sprintf("%s@%s was published %s ago (%s), less than the minimum age %s; it becomes eligible at %s",
			c.Name, c.Version, age.Round(time.Minute), c.Published.UTC().Format(time.RFC3339), checks.MinAge, eligible.Format(time.RFC3339)))
		return
	}
	add("min-age", checks.Age, Pass, fmt.Sprintf("published %s", c.Published.UTC().Format(time.RFC3339)))
}

func (g *Gate) checkLicense(c Candidate, checks Checks, add addFunc) {
	if len(checks.Licenses) == 0 || checks.License == Off {
		return
	}
	if ok, why := licenseAllowed(c.License, checks.Licenses); !ok {
		add("license", checks.License, Fail, why)
		return
	}
	add("license", checks.License, Pass, c.License)
}

func (g *Gate) checkSignals(c Candidate, checks Checks, d *Decision, add addFunc) {
	d.Verified.Scripts = c.Scripts
	d.Verified.Maintainers = c.Maintainers
	if checks.Scripts != Off {
		if len(c.Scripts) > 0 {
			add("install-scripts", checks.Scripts, Fail, "runs install scripts: "+strings.Join(c.Scripts, ", "))
		} else {
			add("install-scripts", checks.Scripts, Pass, "none")
		}
	}
	if checks.Maintainer == Off {
		return
	}
	if c.Previous == nil {
		add("new-maintainers", checks.Maintainer, Absent, "no earlier version is stored")
		return
	}
	var added []string
	for _, m := range c.Maintainers {
		if !slices.Contains(c.Previous.Maintainers, m) {
			added = append(added, m)
		}
	}
	if len(added) > 0 {
		d.Verified.NewMaintainers = added
		add("new-maintainers", checks.Maintainer, Fail, fmt.Sprintf("maintainers not on %s: %s", c.Previous.Version, strings.Join(added, ", ")))
		return
	}
	add("new-maintainers", checks.Maintainer, Pass, "the same as "+c.Previous.Version)
}
