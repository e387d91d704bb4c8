package build

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cdnserve/cdnserve/layout"
)

// Report is the summary a build prints: one row per bundle or file and the
// total time.
type Report struct {
	Rows     []ReportRow   `json:"outputs"`
	Duration time.Duration `json:"-"`
}

// ReportRow gives one output's sizes in bytes. Min is 0 for a file that is
// copied and not minified; Gzip is the size of the minified file (or of
// the copied one) at gzip's best compression.
type ReportRow struct {
	Name  string `json:"name"`
	Plain int    `json:"plain_bytes"`
	Min   int    `json:"min_bytes,omitempty"`
	Gzip  int    `json:"gzip_bytes"`
}

func reportRow(name string, arts []Artifact) ReportRow {
	row := ReportRow{Name: name}
	shipped := arts[0].Data
	for _, a := range arts {
		switch a.Name {
		case name:
			row.Plain = len(a.Data)
		case MinName(name):
			row.Min = len(a.Data)
			shipped = a.Data
		}
	}
	row.Gzip = gzipSize(shipped)
	return row
}

// gzipSize is the size of data at gzip's best compression, as the
// publisher's .gz sidecar will be.
func gzipSize(data []byte) int {
	gz, _ := layout.EncodingNamed("gzip")
	return len(gz.Compress(data, layout.Best))
}

// WriteTable prints the report as an aligned table for a terminal.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "output\tplain\tmin\tgzip\t")
	for _, row := range r.Rows {
		min := "-"
		if row.Min > 0 {
			min = humanBytes(row.Min)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", row.Name, humanBytes(row.Plain), min, humanBytes(row.Gzip))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "built in %s\n", r.Duration.Round(time.Millisecond))
	return err
}

func humanBytes(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1024), ".0") + " KiB"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1024*1024)), ".0") + " MiB"
}
