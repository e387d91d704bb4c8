package gate

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// provenanceIssuers are the OIDC issuers of the CI systems npm accepts
// provenance from: GitHub Actions and GitLab CI.
const provenanceIssuers = `^(https://token\.actions\.githubusercontent\.com|https://gitlab\.com)$`

// slsaPrefix starts the predicate type of a SLSA provenance statement.
const slsaPrefix = "https://slsa.dev/provenance/"

// checkProvenance verifies a version's Sigstore provenance attestation
// offline against the trusted root: the bundle's certificate chains to
// Fulcio and was issued to a CI workflow, its transparency-log entry is
// signed by Rekor, its DSSE signature holds, and its statement's subject
// is this package and version with the sha512 of the tarball (the
// registry's integrity, which the tarball is checked against). It
// records the source repository, commit and workflow. A provenance
// that is listed and does not verify is refused at every level but off:
// warn admits only its absence.
func (g *Gate) checkProvenance(ctx context.Context, c Candidate, checks Checks, src Source, d *Decision, add addFunc) error {
	level := checks.Provenance
	if checks.Repository != "" && level < Require {
		level = Require
	}
	if level == Off {
		return nil
	}
	if c.Attestations == "" {
		if level == Require {
			add("provenance", level, Fail, "the version has no provenance attestation, and the policy requires one")
		} else {
			add("provenance", level, Absent, "no provenance attestation")
		}
		return nil
	}
	u, err := attestationURL(c.Registry, c.Attestations)
	if err != nil {
		add("provenance", level, forged, err.Error())
		return nil
	}
	body, err := src.Attestations(ctx, u)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add("provenance", level, forged, "the document lists an attestation that its registry does not have")
		return nil
	case err != nil:
		return fmt.Errorf("the provenance attestation: %w", err)
	}
	repo, err := g.verifyProvenance(c, body)
	if err != nil {
		add("provenance", level, forged, err.Error())
		return nil
	}
	d.Verified.Repository, d.Verified.Commit, d.Verified.Workflow = repo.Repository, repo.Commit, repo.Workflow
	if !repositoryMatches(checks.Repository, repo.Repository) {
		add("provenance", level, Fail, fmt.Sprintf("built from %s, not from %s as the policy requires", repo.Repository, checks.Repository))
		return nil
	}
	add("provenance", level, Pass, fmt.Sprintf("built from %s at %s by %s", repo.Repository, repo.Commit, repo.Workflow))
	return nil
}

// attestationURL is the attestation's path on the version's own
// registry, as npm fetches it: a document cannot send the gate to
// another host.
func attestationURL(registry, listed string) (string, error) {
	lu, err := url.Parse(listed)
	if err != nil || !strings.HasPrefix(lu.Path, "/-/npm/v1/attestations/") {
		return "", fmt.Errorf("dist.attestations.url %q is not a registry's /-/npm/v1/attestations/ URL", listed)
	}
	ru, err := url.Parse(registry)
	if err != nil {
		return "", err
	}
	return ru.Scheme + "://" + ru.Host + lu.EscapedPath(), nil
}

// builtFrom is what a verified provenance says of the build.
type builtFrom struct{ Repository, Commit, Workflow string }

// verifyProvenance verifies the SLSA provenance bundle of an
// attestations document.
func (g *Gate) verifyProvenance(c Candidate, body []byte) (*builtFrom, error) {
	var doc struct {
		Attestations []struct {
			PredicateType string          `json:"predicateType"`
			Bundle        json.RawMessage `json:"bundle"`
		} `json:"attestations"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("the attestations are not npm's format: %v", err)
	}
	var raw json.RawMessage
	for _, a := range doc.Attestations {
		if strings.HasPrefix(a.PredicateType, slsaPrefix) {
			raw = a.Bundle
		}
	}
	if raw == nil {
		return nil, errors.New("the attestations hold no SLSA provenance")
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("the provenance is no Sigstore bundle: %v", err)
	}
	want, err := sha512Hex(c.Integrity)
	if err != nil {
		return nil, err
	}
	digest, _ := hex.DecodeString(want)
	v, err := verify.NewVerifier(g.trusted, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	if err != nil {
		return nil, err
	}
	id, err := verify.NewShortCertificateIdentity("", provenanceIssuers, "", ".+")
	if err != nil {
		return nil, err
	}
	res, err := v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha512", digest), verify.WithCertificateIdentity(id)))
	if err != nil {
		return nil, fmt.Errorf("the provenance does not verify: %v", err)
	}
	purl := "pkg:npm/" + strings.Replace(c.Name, "@", "%40", 1) + "@" + c.Version
	named := false
	if res.Statement != nil {
		for _, s := range res.Statement.Subject {
			if s.Name == purl && s.Digest["sha512"] == want {
				named = true
			}
		}
	}
	if !named {
		return nil, fmt.Errorf("the provenance's subject is not %s with the tarball's sha512", purl)
	}
	cert := res.Signature.Certificate
	out := &builtFrom{Repository: cert.SourceRepositoryURI, Commit: cert.SourceRepositoryDigest, Workflow: cert.BuildConfigURI}
	if out.Repository == "" && cert.GithubWorkflowRepository != "" {
		// Certificates from before Fulcio's 2023 extensions.
		out.Repository = "https://github.com/" + cert.GithubWorkflowRepository
		out.Commit = cert.GithubWorkflowSHA
		out.Workflow = cert.SubjectAlternativeName
	}
	if out.Workflow == "" {
		out.Workflow = cert.SubjectAlternativeName
	}
	return out, nil
}

// sha512Hex is the hex digest of a sha512 integrity string.
func sha512Hex(integrity string) (string, error) {
	for _, part := range strings.Fields(integrity) {
		if b64, ok := strings.CutPrefix(part, "sha512-"); ok {
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && len(raw) == 64 {
				return hex.EncodeToString(raw), nil
			}
		}
	}
	return "", fmt.Errorf("the integrity %q has no sha512", integrity)
}
