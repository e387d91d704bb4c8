package versioning

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // substring of the error; "" means it must parse
	}{
		{name: "stable", in: "1.7.1"},
		{name: "zeros", in: "0.0.0"},
		{name: "pre seed spelling", in: "1.7.2-pre"},
		{name: "rc with number", in: "1.7.2-rc.1"},
		{name: "dotted pre", in: "2.0.0-alpha.beta.3"},
		{name: "large numbers", in: "10.200.3000"},
		{name: "build metadata", in: "1.7.1+build.5", wantErr: "build metadata (+build.5) is not allowed"},
		{name: "pre and metadata", in: "1.7.1-rc.1+sha.abc", wantErr: "build metadata"},
		{name: "v prefix", in: "v1.7.1", wantErr: `invalid version "v1.7.1"`},
		{name: "major minor only", in: "1.7", wantErr: "want MAJOR.MINOR.PATCH"},
		{name: "major only", in: "1", wantErr: "want MAJOR.MINOR.PATCH"},
		{name: "empty", in: "", wantErr: `invalid version ""`},
		{name: "leading zero", in: "01.7.1", wantErr: "invalid version"},
		{name: "leading zero prerelease number", in: "1.7.1-01", wantErr: "invalid version"},
		{name: "four parts", in: "1.7.1.4", wantErr: "invalid version"},
		{name: "traversal", in: "../1.7.1", wantErr: "invalid version"},
		{name: "slash in prerelease", in: "1.7.1-a/b", wantErr: "invalid version"},
		{name: "space", in: "1.7.1 ", wantErr: "invalid version"},
		{name: "NUL", in: "1.7.1\x00", wantErr: "invalid version"},
		{name: "range", in: "^1.7.0", wantErr: "invalid version"},
		{name: "huge", in: "1.7.1-" + strings.Repeat("a", 200), wantErr: "longer than 128 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Parse(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse(%q) = %v, want success", tc.in, err)
				}
				if v.Original() != tc.in {
					t.Fatalf("Original() = %q, want %q", v.Original(), tc.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tc.in, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidVersion) {
				t.Errorf("error %v does not wrap ErrInvalidVersion", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDirs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"1.7.1", []string{"1.7.1", "1.7"}},
		{"2.2.3", []string{"2.2.3", "2.2"}},
		{"0.0.1", []string{"0.0.1", "0.0"}},
		{"1.7.2-pre", []string{"1.7.2-pre"}},
		{"1.7.2-rc.1", []string{"1.7.2-rc.1"}},
		{"3.0.0-beta", []string{"3.0.0-beta"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			v, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := Dirs(v); !slices.Equal(got, tc.want) {
				t.Errorf("Dirs(%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestIsAliasName(t *testing.T) {
	for name, want := range map[string]bool{"1.7": true, "0.0": true, "10.200": true, "1.7.1": false, "01.7": false, "1": false, "1.x": false, ".7": false, "1.": false, "latest": false} {
		if got := IsAliasName(name); got != want {
			t.Errorf("IsAliasName(%q) = %v, want %v", name, got, want)
		}
	}
}
