//go:build !linux

package dist

import "github.com/spf13/afero"

// testDisk is the local disk; outside Linux it has no exchange.
type testDisk struct{ afero.OsFs }
