package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
)

// provenance describes where a published version came from. The git
// commit is recorded when dir is inside a git checkout and git is
// installed; otherwise it is left out.
func provenance(source, dir string, manifest []byte) layout.Provenance {
	p := layout.Provenance{Tool: "cdnserve " + toolVersion(), Source: source}
	if manifest != nil {
		sum := sha256.Sum256(manifest)
		p.ManifestSHA256 = hex.EncodeToString(sum[:])
	}
	if out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output(); err == nil {
		p.GitCommit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "-C", dir, "status", "--porcelain").Output(); err == nil {
			p.GitDirty = len(strings.TrimSpace(string(st))) > 0
		}
	}
	return p
}
