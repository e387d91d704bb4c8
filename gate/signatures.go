package gate

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// keySet is a registry's signing keys, as /-/npm/v1/keys lists them.
type keySet struct {
	keys []registryKey
}

type registryKey struct {
	KeyID   string  `json:"keyid"`
	KeyType string  `json:"keytype"`
	Scheme  string  `json:"scheme"`
	Key     string  `json:"key"`
	Expires *string `json:"expires"`
	pub     *ecdsa.PublicKey
	expires time.Time
}

// parseKeys reads a keys document; errors name where it came from.
func parseKeys(from string, data []byte) (*keySet, error) {
	var doc struct {
		Keys []registryKey `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a registry keys document ({\"keys\": [...]}): %v", from, err)
	}
	ks := &keySet{}
	for i, k := range doc.Keys {
		der, err := base64.StdEncoding.DecodeString(k.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: keys[%d] (%s): the key is not base64: %v", from, i, k.KeyID, err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		ec, ok := pub.(*ecdsa.PublicKey)
		if err != nil || !ok || ec.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s: keys[%d] (%s): not an ECDSA P-256 public key", from, i, k.KeyID)
		}
		k.pub = ec
		if k.Expires != nil && *k.Expires != "" {
			if k.expires, err = time.Parse(time.RFC3339, *k.Expires); err != nil {
				return nil, fmt.Errorf("%s: keys[%d] (%s): expires %q is no RFC 3339 time", from, i, k.KeyID, *k.Expires)
			}
		}
		ks.keys = append(ks.keys, k)
	}
	return ks, nil
}

func (ks *keySet) find(id string) *registryKey {
	for i := range ks.keys {
		if ks.keys[i].KeyID == id {
			return &ks.keys[i]
		}
	}
	return nil
}

// keysTTL is how long a registry's keys are reused.
const keysTTL = time.Hour

type cachedKeys struct {
	keys *keySet // nil: the registry publishes none
	at   time.Time
}

// registryKeys returns the pinned keys, or the registry's, cached for
// keysTTL; nil when it publishes none.
func (g *Gate) registryKeys(ctx context.Context, registry string, src Source) (*keySet, error) {
	if g.pinned != nil {
		return g.pinned, nil
	}
	g.mu.Lock()
	ck, ok := g.keys[registry]
	g.mu.Unlock()
	if ok && g.clock().Sub(ck.at) < keysTTL {
		return ck.keys, nil
	}
	data, err := src.RegistryKeys(ctx, registry)
	var ks *keySet
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !ok {
			g.logger.Warn("the npm registry publishes no signing keys (/-/npm/v1/keys): registry signatures are not checked for its packages; pin keys in the policy (keys:) to require them", "registry", registry)
		}
	case err != nil:
		return nil, fmt.Errorf("the registry's signing keys: %w", err)
	default:
		if ks, err = parseKeys(registry+"-/npm/v1/keys", data); err != nil {
			return nil, err
		}
	}
	g.mu.Lock()
	g.keys[registry] = cachedKeys{keys: ks, at: g.clock()}
	g.mu.Unlock()
	return ks, nil
}

// missingTimeCutoff is the publish time npm assumes for a version whose
// document gives none, when it checks a key's expiry (pacote).
var missingTimeCutoff = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// checkSignatures verifies dist.signatures as npm does (pacote): each
// signature, ECDSA P-256 with SHA-256 over "<name>@<version>:<integrity>",
// by the registry key of its keyid, which must not have expired before
// the version was published.
func (g *Gate) checkSignatures(ctx context.Context, c Candidate, checks Checks, src Source, d *Decision, add addFunc) error {
	level := checks.Signatures
	if level == Off {
		return nil
	}
	ks, err := g.registryKeys(ctx, c.Registry, src)
	if err != nil {
		return err
	}
	if ks == nil {
		if level == Auto {
			add("signatures", Warn, Absent, "the registry publishes no signing keys")
			return nil
		}
		add("signatures", level, Fail, "the registry publishes no signing keys (/-/npm/v1/keys), and the policy requires signatures; pin its keys (keys:) or set signatures: warn")
		return nil
	}
	if len(c.Signatures) == 0 {
		add("signatures", level, Fail, "the version has no registry signature (dist.signatures), and its registry signs its packages")
		return nil
	}
	published := c.Published
	if published.IsZero() {
		published = missingTimeCutoff
	}
	message := sha256.Sum256([]byte(c.Name + "@" + c.Version + ":" + c.Integrity))
	for _, s := range c.Signatures {
		k := ks.find(s.KeyID)
		if k == nil {
			add("signatures", level, Fail, fmt.Sprintf("signed with key %s, which the registry does not publish", s.KeyID))
			return nil
		}
		if !k.expires.IsZero() && !published.Before(k.expires) {
			add("signatures", level, Fail, fmt.Sprintf("signed with key %s, which expired at %s, before the version was published (%s)",
				s.KeyID, k.expires.UTC().Format(time.RFC3339), published.UTC().Format(time.RFC3339)))
			return nil
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || !ecdsa.VerifyASN1(k.pub, message[:], sig) {
			add("signatures", level, Fail, fmt.Sprintf("the signature by key %s does not verify over %s@%s:%s", s.KeyID, c.Name, c.Version, c.Integrity))
			return nil
		}
		d.Verified.KeyID = s.KeyID
	}
	add("signatures", level, Pass, "key "+d.Verified.KeyID)
	return nil
}
