package headers

import "testing"

func TestAcceptEncodingOrder(t *testing.T) {
	tests := []struct {
		header string
		want   [3]string
	}{
		{"", [3]string{"", "", ""}},
		{"gzip, deflate, br", [3]string{"br", "gzip", ""}},
		{"gzip", [3]string{"gzip", "", ""}},
		{"br;q=0.5, gzip;q=0.8", [3]string{"gzip", "br", ""}},
		{"br;q=0, gzip;q=0", [3]string{"", "", ""}},
		{"*", [3]string{"br", "gzip", ""}},
		{"*;q=0.3, br;q=0", [3]string{"gzip", "", ""}},
		{"identity", [3]string{"", "", ""}},
		{"identity;q=1, br;q=0.5", [3]string{"", "br", ""}},
		{"GZIP;Q=1, BR", [3]string{"br", "gzip", ""}},
		{"x-gzip", [3]string{"gzip", "", ""}},
		{"br;q=garbage, gzip", [3]string{"gzip", "", ""}},
		{"br;q=2", [3]string{"", "", ""}},
		{" , ,;;", [3]string{"", "", ""}},
	}
	for _, tc := range tests {
		if got := ParseAcceptEncoding(tc.header).Order(); got != tc.want {
			t.Errorf("order(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}
