package content

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// stored writes a file into dir and returns its manifest entry.
func stored(t *testing.T, dir, name, body string) layout.ManifestFile {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	return layout.ManifestFile{Path: name, Size: int64(len(body)), ContentType: layout.ContentType(name), SHA256: hex.EncodeToString(sum[:])}
}

func TestBody(t *testing.T) {
	dir := t.TempDir()
	small := NewFile(dir, stored(t, dir, "a.js", strings.Repeat("var a = 1;\n", 10)))
	big := NewFile(dir, stored(t, dir, "big.js", strings.Repeat("x", 4096)))
	tampered := NewFile(dir, stored(t, dir, "t.js", "good"))
	os.WriteFile(filepath.Join(dir, "t.js"), []byte("evil"), 0o644) // same size, other bytes
	st := NewStore(afero.NewOsFs(), NewCache(16*1024))              // items up to 1 KiB
	for _, tc := range []struct {
		name    string
		f       *File
		wantErr error
	}{
		{"a file that matches", small, nil},
		{"a file too big for the cache", big, ErrTooBig},
		{"bytes changed in place", tampered, ErrIntegrity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := st.Body(tc.f.Identity)
			if !errors.Is(err, tc.wantErr) || (err == nil && int64(len(data)) != tc.f.Identity.Size) {
				t.Errorf("Body = %d bytes, %v; want %v", len(data), err, tc.wantErr)
			}
		})
	}
	st.Body(small.Identity)
	if hits, misses := st.cache.Stats(); hits != 1 || misses < 1 {
		t.Errorf("cache: %d hits, %d misses; want the second read from memory", hits, misses)
	}
	t.Run("an encoding made on the fly, once", func(t *testing.T) {
		v, err := small.Encoded("gzip", func() ([]byte, error) { return st.Body(small.Identity) })
		again, _ := small.Encoded("gzip", nil)
		if err != nil || v == nil || v.Size >= small.Identity.Size || again != v || v.CE[0] != "gzip" || v.ETag[0] == small.Identity.ETag[0] {
			t.Errorf("Encoded(gzip) = %+v, %v", v, err)
		}
	})
}

func TestOpenStreams(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("0123456789", 1000)
	good := NewFile(dir, stored(t, dir, "good.bin", body))
	bad := NewFile(dir, stored(t, dir, "bad.bin", body))
	os.WriteFile(filepath.Join(dir, "bad.bin"), []byte(strings.Repeat("9", len(body))), 0o644)
	st := NewStore(afero.NewOsFs(), NewCache(0))
	for _, tc := range []struct {
		name     string
		f        *File
		mismatch bool
	}{{"bytes that match", good, false}, {"bytes changed in place", bad, true}} {
		t.Run(tc.name, func(t *testing.T) {
			vf, err := st.Open(tc.f.Identity, true)
			if err != nil {
				t.Fatal(err)
			}
			defer vf.Close()
			got, err := io.ReadAll(vf)
			if tc.mismatch != vf.Mismatched() || (tc.mismatch && (!errors.Is(err, ErrIntegrity) || len(got) == len(body))) || (!tc.mismatch && string(got) != body) {
				t.Errorf("read %d bytes, %v; mismatched %v", len(got), err, vf.Mismatched())
			}
		})
	}
	t.Run("a file that failed stays refused until it changes", func(t *testing.T) {
		if _, err := st.Open(bad.Identity, true); !errors.Is(err, ErrIntegrity) {
			t.Errorf("Open after a mismatch = %v, want ErrIntegrity", err)
		}
	})
	t.Run("a range of an unverified file is verified first", func(t *testing.T) {
		other := NewFile(dir, stored(t, dir, "other.bin", body))
		os.WriteFile(filepath.Join(dir, "other.bin"), []byte(strings.Repeat("8", len(body))), 0o644)
		if _, err := st.Open(other.Identity, false); !errors.Is(err, ErrIntegrity) {
			t.Errorf("Open(range) of a changed file = %v, want ErrIntegrity", err)
		}
	})
}
