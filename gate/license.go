package gate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// spdx is a parsed SPDX licence expression: a licence (with its WITH
// exception), or AND / OR of two expressions.
type spdx struct {
	op          string // "", "AND", "OR"
	id          string // a licence, "MIT" or "GPL-2.0-only WITH Classpath-exception-2.0"
	left, right *spdx
}

// parseSPDX reads an expression such as "(MIT OR Apache-2.0) AND BSD-3-Clause".
// AND binds tighter than OR, as SPDX says.
func parseSPDX(s string) (*spdx, error) {
	toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s))
	if len(toks) == 0 {
		return nil, errors.New("an empty licence expression")
	}
	p := &spdxParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(toks) {
		return nil, fmt.Errorf("unexpected %q in a licence expression", toks[p.i])
	}
	return e, nil
}

type spdxParser struct {
	toks []string
	i    int
}

func (p *spdxParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *spdxParser) or() (*spdx, error) {
	return p.binary("OR", p.and)
}

func (p *spdxParser) and() (*spdx, error) {
	return p.binary("AND", p.term)
}

func (p *spdxParser) binary(op string, next func() (*spdx, error)) (*spdx, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), op) {
		p.i++
		r, err := next()
		if err != nil {
			return nil, err
		}
		l = &spdx{op: op, left: l, right: r}
	}
	return l, nil
}

func (p *spdxParser) term() (*spdx, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, errors.New("a licence expression ends too early")
	case t == "(":
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, errors.New("a licence expression misses a )")
		}
		p.i++
		return e, nil
	case t == ")" || strings.EqualFold(t, "AND") || strings.EqualFold(t, "OR") || strings.EqualFold(t, "WITH"):
		return nil, fmt.Errorf("unexpected %q in a licence expression", t)
	}
	p.i++
	id := t
	if strings.EqualFold(p.peek(), "WITH") {
		p.i++
		exc := p.peek()
		if exc == "" || exc == "(" || exc == ")" {
			return nil, errors.New("WITH needs an exception")
		}
		p.i++
		id += " WITH " + exc
	}
	return &spdx{id: id}, nil
}

// allowedBy reports whether the expression is satisfied by the allowed
// licences: OR needs one side, AND both. A licence WITH an exception is
// allowed when the list names it with that exception, or names the bare
// licence. Identifiers compare without regard to case.
func (e *spdx) allowedBy(allowed []string) bool {
	switch e.op {
	case "OR":
		return e.left.allowedBy(allowed) || e.right.allowedBy(allowed)
	case "AND":
		return e.left.allowedBy(allowed) && e.right.allowedBy(allowed)
	}
	bare, _, _ := strings.Cut(e.id, " WITH ")
	return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, e.id) || strings.EqualFold(a, bare) })
}

// licenseAllowed reports whether a package's licence satisfies the
// allow-list, whose entries may themselves be expressions ("MIT OR
// Apache-2.0" allows both). It says why not.
func licenseAllowed(license string, allow []string) (bool, string) {
	if strings.TrimSpace(license) == "" {
		return false, "the package names no licence"
	}
	e, err := parseSPDX(license)
	if err != nil {
		return false, fmt.Sprintf("its licence %q is no SPDX expression: %v", license, err)
	}
	var ids []string
	for _, a := range allow {
		if ae, err := parseSPDX(a); err == nil {
			ids = ae.ids(ids)
		}
	}
	if e.allowedBy(ids) {
		return true, ""
	}
	return false, fmt.Sprintf("its licence %q is not in the allowed list (%s)", license, strings.Join(allow, ", "))
}

// ids lists the licences an expression names.
func (e *spdx) ids(into []string) []string {
	if e.op == "" {
		return append(into, e.id)
	}
	return e.right.ids(e.left.ids(into))
}
