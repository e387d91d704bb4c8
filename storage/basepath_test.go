package storage_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/spf13/afero"
	"gocloud.dev/blob/memblob"
)

// TestBasePathKeepsCapabilities: a tree opened below a base path is
// written the way its storage is, and an exchange swaps the directories
// below that path.
func TestBasePathKeepsCapabilities(t *testing.T) {
	disk := t.TempDir()
	for _, tc := range []struct {
		name   string
		source afero.Fs
		dir    string
		want   layout.WriteMode
	}{
		{"disk exchanges", storage.DiskFs{}, disk, layout.WriteExchange},
		{"object storage writes in place", storage.NewBlobFs(memblob.OpenBucket(nil)), "/prefix", layout.WriteInPlace},
		{"memory renames", afero.NewMemMapFs(), "/x", layout.WriteRename},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := layout.WriteModeOf(storage.NewBasePathFs(tc.source, tc.dir)); got != tc.want {
				t.Errorf("WriteModeOf(NewBasePathFs(%T)) = %v, want %v", tc.source, got, tc.want)
			}
			if got := layout.WriteModeOf(afero.NewBasePathFs(tc.source, tc.dir)); tc.want != layout.WriteRename && got == tc.want {
				t.Errorf("afero's own BasePathFs kept the capability; this test no longer shows why NewBasePathFs exists")
			}
		})
	}
	t.Run("exchange below the base", func(t *testing.T) {
		fsys := storage.NewBasePathFs(storage.DiskFs{}, disk)
		for _, d := range []string{"a", "b"} {
			os.MkdirAll(filepath.Join(disk, d), 0o755)
			os.WriteFile(filepath.Join(disk, d, "f"), []byte(d), 0o644)
		}
		if err := fsys.(layout.Exchanger).Exchange("/a", "/b"); err != nil {
			t.Skipf("no exchange on this file system: %v", err)
		}
		if got, _ := os.ReadFile(filepath.Join(disk, "a", "f")); string(got) != "b" {
			t.Errorf("after Exchange, a/f = %q, want %q", got, "b")
		}
	})
}
