package headers

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

func TestCommon(t *testing.T) {
	for _, tc := range []struct {
		name      string
		origins   []string
		origin    string
		tls       bool
		wantACAO  string
		wantVary  []string
		wantHSTS  string
		preflight bool
	}{
		{name: "any origin", origin: "https://a.example", wantACAO: "*"},
		{name: "allowed origin is echoed", origins: []string{"https://a.example"}, origin: "https://a.example", wantACAO: "https://a.example", wantVary: []string{"Origin"}},
		{name: "other origin gets nothing, and Vary", origins: []string{"https://a.example"}, origin: "https://evil.example", wantVary: []string{"Origin"}},
		{name: "HSTS only on TLS", tls: true, wantACAO: "*", wantHSTS: "max-age=3600"},
		{name: "preflight", preflight: true, wantACAO: "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCommon(tc.origins, DefaultCORSMaxAge, time.Hour)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.tls {
					r.TLS = &tls.ConnectionState{}
				}
				c.Set(w.Header(), r)
				if r.Method == http.MethodOptions {
					c.Preflight(w, r)
				}
			}))
			defer srv.Close()
			method := http.MethodGet
			if tc.preflight {
				method = http.MethodOptions
			}
			req, _ := http.NewRequest(method, srv.URL, nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.wantACAO {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tc.wantACAO)
			}
			if got := h.Values("Vary"); !slices.Equal(got, tc.wantVary) {
				t.Errorf("Vary = %q, want %q", got, tc.wantVary)
			}
			if got := h.Get("Strict-Transport-Security"); got != tc.wantHSTS {
				t.Errorf("Strict-Transport-Security = %q, want %q", got, tc.wantHSTS)
			}
			for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "cross-origin", "Timing-Allow-Origin": "*"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tc.preflight && (resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Max-Age") != "86400" || h.Get("Cache-Control") != "no-store") {
				t.Errorf("preflight: %d, max-age %q, Cache-Control %q", resp.StatusCode, h.Get("Access-Control-Max-Age"), h.Get("Cache-Control"))
			}
		})
	}
}

func TestVary(t *testing.T) {
	for _, tc := range []struct {
		name         string
		origins      []string
		compressible bool
		want         []string
	}{
		{"nothing varies", nil, false, nil},
		{"encodings", nil, true, []string{"Accept-Encoding"}},
		{"origin", []string{"https://a.example"}, false, []string{"Origin"}},
		{"both", []string{"https://a.example"}, true, []string{"Origin", "Accept-Encoding"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewCommon(tc.origins, 0, 0).Vary(tc.compressible); !slices.Equal(got, tc.want) {
				t.Errorf("Vary(%v) = %q, want %q", tc.compressible, got, tc.want)
			}
		})
	}
}

func TestCheckOrigin(t *testing.T) {
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://app.example.com", true},
		{"http://127.0.0.1:8080", true},
		{"https://app.example.com/", false},
		{"https://app.example.com/path", false},
		{"ftp://app.example.com", false},
		{"https://user@app.example.com", false},
		{"app.example.com", false},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			if err := CheckOrigin(tc.origin); (err == nil) != tc.ok {
				t.Errorf("CheckOrigin(%q) = %v, want ok=%v", tc.origin, err, tc.ok)
			}
		})
	}
}
