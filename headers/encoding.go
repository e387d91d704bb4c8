package headers

import (
	"strconv"
	"strings"
)

// Preference holds the q-values a client gave br, gzip and identity.
type Preference struct {
	br, gzip, identity float64
}

// ParseAcceptEncoding reads Accept-Encoding (RFC 9110 §12.5.3): a coding
// listed with q=0 is refused, "*" covers codings not listed, and identity
// is acceptable unless refused by name or by "*;q=0". Identity that is
// not listed is acceptable but ranked below every listed coding, as
// nginx and Caddy rank it. With no header, only identity is used: most
// clients that say nothing cannot decode.
func ParseAcceptEncoding(h string) Preference {
	if h == "" {
		return Preference{identity: 1}
	}
	p := Preference{br: -1, gzip: -1, identity: -1}
	star := -1.0
	for h != "" {
		var item string
		item, h, _ = strings.Cut(h, ",")
		name, params, _ := strings.Cut(item, ";")
		name = strings.TrimSpace(name)
		q := parseQ(params)
		switch {
		case strings.EqualFold(name, "br"):
			p.br = q
		case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
			p.gzip = q
		case strings.EqualFold(name, "identity"):
			p.identity = q
		case name == "*":
			star = q
		}
	}
	for _, q := range []*float64{&p.br, &p.gzip} {
		if *q < 0 {
			*q = max(star, 0)
		}
	}
	if p.identity < 0 {
		p.identity = unlistedIdentity
		if star == 0 {
			p.identity = 0
		}
	}
	return p
}

// IdentityOK reports whether the client accepts the unencoded bytes.
func (p Preference) IdentityOK() bool { return p.identity > 0 }

// unlistedIdentity is the rank of identity when the client did not list
// it: acceptable, below any q-value a client can write (q has at most
// three decimals, RFC 9110 §12.4.2).
const unlistedIdentity = 0.0001

// parseQ reads "q=0.5" from a coding's parameters; no q means 1, and a
// malformed one means 0 (refused), to be safe.
func parseQ(params string) float64 {
	for params != "" {
		var kv string
		kv, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}

// Order lists the encodings to try, best first: by q-value, and at equal
// q, br before gzip before identity (smallest first). Refused codings are
// left out; the slots after them are "" (identity), which the caller
// uses only when identity is acceptable (IdentityOK).
func (p Preference) Order() [3]string {
	var out [3]string
	cands := [3]struct {
		name string
		q    float64
	}{{"br", p.br}, {"gzip", p.gzip}, {"", p.identity}}
	n := 0
	for n < 3 {
		best := -1
		for i, c := range cands {
			if c.q > 0 && (best < 0 || c.q > cands[best].q) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out[n] = cands[best].name
		cands[best].q = 0
		n++
	}
	return out // unused slots stay "" (identity)
}
