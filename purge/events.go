package purge

import (
	"github.com/cdnserve/cdnserve/dist"
)

// EventsOf turns a recorded change into events: one per alias it
// created, moved, removed or whose version it deprecated, or one for the
// version alone when it touched no alias.
func EventsOf(c dist.Change) []Event {
	kind := c.Kind
	if kind == dist.ChangePublish {
		kind = ""
	}
	var out []Event
	for _, a := range c.Aliases {
		to := a.To
		if to == "" {
			to = c.Version
		}
		out = append(out, Event{Library: c.Library, Kind: kind, Alias: a.Dir, From: a.From, To: to, Files: c.Files, Latest: c.Latest})
	}
	if len(out) == 0 {
		out = append(out, Event{Library: c.Library, Kind: kind, To: c.Version, Files: c.Files, Latest: c.Latest})
	}
	return out
}

// AliasEvent is the event of an alias as it stands, for a purge by hand.
func AliasEvent(tree dist.Tree, library, alias string) (Event, error) {
	m, err := tree.Manifest(alias)
	if err != nil {
		return Event{}, err
	}
	return Event{Library: library, Alias: alias, From: m.AliasOf, To: m.AliasOf, Files: filesOf(tree, m.AliasOf), Latest: m.AliasOf == tree.Latest()}, nil
}

// filesOf lists the files of a published version, from its manifest.
func filesOf(tree dist.Tree, version string) []string {
	m, err := tree.Manifest(version)
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	return out
}
