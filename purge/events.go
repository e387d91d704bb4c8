package purge

import (
	"slices"

	"github.com/cdnserve/cdnserve/dist"
)

// EventsOf turns a publish into events: one per alias it created or
// moved, with the files the alias held and holds, or one for the version
// alone when it moved none.
func EventsOf(tree dist.Tree, library string, res *dist.Result) []Event {
	latest := tree.Latest()
	var out []Event
	for _, a := range res.Aliases {
		if a.Action != dist.Created && a.Action != dist.Moved {
			continue
		}
		files := filesOf(tree, a.Holds)
		if a.Was != "" {
			files = append(files, filesOf(tree, a.Was)...)
		}
		slices.Sort(files)
		out = append(out, Event{Library: library, Alias: a.Dir, From: a.Was, To: a.Holds, Files: slices.Compact(files), Latest: a.Holds == latest})
	}
	if len(out) == 0 {
		out = append(out, Event{Library: library, To: res.Version})
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
