package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// secrets are the strings no redacted output may contain.
var secrets = []string{"pw", "abc", "s3cr3t", "npm-pass", "cdns_AAAABBBBCCCCdddd", "hunter2", "tok-value"}

func assertNoSecret(t *testing.T, what, got string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(got, s) {
			t.Errorf("%s: %q still holds %q", what, got, s)
		}
	}
}

func TestURL(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"webhook with user info and a token", "webhook+https://user:pw@hook.example/x?token=abc", "webhook+https://REDACTED@hook.example/x?token=REDACTED"},
		{"user only", "https://hunter2@npm.example/", "https://REDACTED@npm.example/"},
		{"no secret", "http://varnish.internal:6081", "http://varnish.internal:6081"},
		{"s3 with safe keys", "s3://bucket/cdn?region=eu&endpoint=https://k:s3cr3t@s3.example", "s3://bucket/cdn?endpoint=https://REDACTED@s3.example&region=eu"},
		{"s3 with a credential", "s3://bucket/cdn?region=eu&secret=s3cr3t", "s3://bucket/cdn?region=eu&secret=REDACTED"},
		{"api base kept", "cloudflare://zone?api=http://127.0.0.1:9/", "cloudflare://zone?api=http://127.0.0.1:9/"},
		{"fragment dropped", "https://a.example/p#tok-value", "https://a.example/p"},
		{"signed URL", "https://cdn.example/x.js?exp=1&kid=k&sig=abc", "https://cdn.example/x.js?exp=REDACTED&kid=REDACTED&sig=REDACTED"},
		{"unparsable", "http://a b%zz", Mask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := URL(tc.in)
			if got != tc.want {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
			assertNoSecret(t, "URL", got)
		})
	}
}

func TestSetting(t *testing.T) {
	for _, tc := range []struct{ name, flag, in, want string }{
		{"secret-named", "api-token", "tok-value", Mask},
		{"secret-named but empty", "tokens", "", ""},
		{"a list of purge URLs", "purge", "webhook+https://u:pw@h.example/x?token=abc,xkey+http://v:6081", "webhook+https://REDACTED@h.example/x?token=REDACTED,xkey+http://v:6081"},
		{"a plain value", "addr", ":8080", ":8080"},
		{"a path", "storage", "/srv/dist", "/srv/dist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Setting(tc.flag, tc.in); got != tc.want {
				t.Errorf("Setting(%q, %q) = %q, want %q", tc.flag, tc.in, got, tc.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a transport error", `Post "webhook+https://user:pw@hook.example/x?token=abc": dial tcp: refused`, `Post "webhook+https://REDACTED@hook.example/x?token=REDACTED": dial tcp: refused`},
		{"a URL ending a sentence", "could not reach https://u:pw@r.example/x.", "could not reach https://REDACTED@r.example/x."},
		{"a token of ours", "token cdns_AAAABBBBCCCCdddd is refused", "token REDACTED is refused"},
		{"an Authorization header", "Authorization: Bearer hunter2", "Authorization: Bearer REDACTED"},
		{"an npmrc token", "//npm.example/:_authToken=npm-pass", "//npm.example/:_authToken=REDACTED"},
		{"nothing secret", "published 1.2.3 (4 files)", "published 1.2.3 (4 files)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Text(tc.in)
			if got != tc.want {
				t.Errorf("Text(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
			assertNoSecret(t, "Text", got)
		})
	}
}

func TestHandler(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&buf, nil)
			if format == "json" {
				h = slog.NewJSONHandler(&buf, nil)
			}
			u, _ := url.Parse("https://user:pw@hook.example/x?token=abc")
			log := slog.New(Handler(h)).With("registry", "https://u:npm-pass@npm.example/")
			log.Warn("purge of https://user:pw@hook.example/ failed", "err", errors.New(`Post "https://user:pw@hook.example/x?token=abc": EOF`),
				"url", u, "token", "tok-value", "n", 3, slog.Group("g", "storage", "s3://b?secret=s3cr3t"))
			out := buf.String()
			assertNoSecret(t, "log line", out)
			for _, want := range []string{"hook.example", "npm.example", "REDACTED", "n=3", `"n":3`} {
				if !strings.Contains(out, want) && !(want == "n=3" && format == "json") && !(want == `"n":3` && format == "text") {
					t.Errorf("log line %q lacks %q", out, want)
				}
			}
		})
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := Writer(&buf)
	msg := "cdnserve add: https://u:npm-pass@npm.example/left-pad: refused\n"
	n, err := w.Write([]byte(msg))
	if err != nil || n != len(msg) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(msg))
	}
	if got, want := buf.String(), "cdnserve add: https://REDACTED@npm.example/left-pad: refused\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}
