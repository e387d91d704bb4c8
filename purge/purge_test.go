package purge

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var moved = Event{Library: "pusher", Alias: "2.2", From: "2.2.3", To: "2.2.4", Files: []string{"pusher.js", "a b.js"}, Latest: true}

func TestEventTagsAndPaths(t *testing.T) {
	if got := strings.Join(moved.Tags(), " "); got != "pusher@2.2 pusher@* @index" {
		t.Errorf("tags %q", got)
	}
	want := "/ /-/libraries /-/meta/pusher/2.2 /-/meta/pusher/2.2.4 /-/versions/pusher /pusher/ /pusher/2.2.4/ /pusher/2.2.4/a%20b.js /pusher/2.2.4/pusher.js /pusher/2.2/ /pusher/2.2/a%20b.js /pusher/2.2/pusher.js /pusher/latest/a%20b.js /pusher/latest/pusher.js"
	if got := strings.Join(moved.Paths(), " "); got != want {
		t.Errorf("paths\n%s\nwant\n%s", got, want)
	}
	// By hand (the alias as it stands): nothing of an exact version.
	byHand := Event{Library: "pusher", Alias: "2.2", From: "2.2.4", To: "2.2.4", Files: moved.Files}
	for _, p := range append(byHand.Paths(), byHand.Tags()...) {
		if strings.Contains(p, "2.2.4") {
			t.Errorf("a purge by hand names the exact version: %s", p)
		}
	}
	root := Event{To: "3.0.0-rc.1"}
	if got := strings.Join(root.Tags(), " ") + " | " + strings.Join(root.Paths(), " "); got != "@* @index | / /-/libraries /-/meta/3.0.0-rc.1 /-/versions /3.0.0-rc.1/" {
		t.Errorf("root prerelease: %q", got)
	}
	for _, tag := range moved.Tags() {
		if strings.HasPrefix(tag, "pusher@2.2.3") || tag == "pusher" {
			t.Errorf("tag %q would purge an exact version", tag)
		}
	}
}

// recorder is a local HTTP server that keeps what it receives, standing
// in for each API so that the request's shape can be checked against the
// API's documentation.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
	// status answers the next requests, in order; then 200.
	status []int
	reply  string
}

type recorded struct {
	method, path, host string
	header             http.Header
	body               string
}

func newRecorder(t *testing.T, reply string) *recorder {
	r := &recorder{reply: reply}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.Host, req.Header.Clone(), string(body)})
		status := 200
		if len(r.status) > 0 {
			status, r.status = r.status[0], r.status[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, r.reply)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) got() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

func env(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

func TestURLAndXkeyPurgers(t *testing.T) {
	edge := newRecorder(t, "")
	p, err := Parse(edge.URL+"?host=cdn.example.com", env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Purge(context.Background(), moved); err != nil {
		t.Fatal(err)
	}
	reqs := edge.got()
	if len(reqs) != len(moved.Paths()) || reqs[0].method != "PURGE" || reqs[0].host != "cdn.example.com" || reqs[0].path != moved.Paths()[0] {
		t.Fatalf("%d requests, first %+v", len(reqs), reqs[0])
	}
	x, _ := Parse("xkey+"+edge.URL, env(nil), nil)
	x.Purge(context.Background(), moved)
	last := edge.got()[len(edge.got())-1]
	if last.method != "PURGE" || last.path != "/" || last.header.Get("Xkey-Purge") != "pusher@2.2 pusher@* @index" {
		t.Errorf("xkey purge: %+v", last)
	}
}

func TestWebhookPurger(t *testing.T) {
	hook := newRecorder(t, "")
	p, _ := Parse("webhook+"+hook.URL+"/hooks/cdn", env(nil), nil)
	if err := p.Purge(context.Background(), moved); err != nil {
		t.Fatal(err)
	}
	r := hook.got()[0]
	var b WebhookBody
	if err := json.Unmarshal([]byte(r.body), &b); err != nil || r.method != "POST" || r.path != "/hooks/cdn" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%+v %v", r, err)
	}
	if b.Library != "pusher" || b.Alias != "2.2" || b.From != "2.2.3" || b.To != "2.2.4" || len(b.URLs) != len(moved.Paths()) || len(b.Tags) != 3 {
		t.Errorf("body %+v", b)
	}
}

// TestCloudflareRequest checks the request against Cloudflare's
// documented purge by tag: POST /zones/{zone_id}/purge_cache with a
// bearer token and {"tags": [...]}, success in the reply.
func TestCloudflareRequest(t *testing.T) {
	api := newRecorder(t, `{"success":true,"errors":[],"messages":[],"result":{"id":"x"}}`)
	if _, err := Parse("cloudflare://zone123", env(nil), nil); err == nil || !strings.Contains(err.Error(), "set CLOUDFLARE_API_TOKEN") {
		t.Errorf("without a token: %v", err)
	}
	p, err := Parse("cloudflare://zone123?api="+api.URL, env(map[string]string{"CLOUDFLARE_API_TOKEN": "cf-secret"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != "cloudflare://zone123" {
		t.Errorf("String %q", p)
	}
	if err := p.Purge(context.Background(), moved); err != nil {
		t.Fatal(err)
	}
	r := api.got()[0]
	var body struct{ Tags []string }
	json.Unmarshal([]byte(r.body), &body)
	if r.method != "POST" || r.path != "/zones/zone123/purge_cache" || r.header.Get("Authorization") != "Bearer cf-secret" ||
		r.header.Get("Content-Type") != "application/json" || strings.Join(body.Tags, " ") != "pusher@2.2 pusher@* @index" {
		t.Errorf("request %+v", r)
	}
	api.reply = `{"success":false,"errors":[{"code":1134,"message":"bad tag"}]}`
	if err := p.Purge(context.Background(), moved); err == nil || !strings.Contains(err.Error(), "did not report success") {
		t.Errorf("an unsuccessful reply: %v", err)
	}
}

// TestFastlyRequest checks the request against Fastly's documented purge
// by surrogate keys: POST /service/{service_id}/purge, Fastly-Key, and the
// keys space-separated in Surrogate-Key.
func TestFastlyRequest(t *testing.T) {
	api := newRecorder(t, `{"pusher@2.2":"108-1391560174-974124"}`)
	p, err := Parse("fastly://svc9?api="+api.URL, env(map[string]string{"FASTLY_API_TOKEN": "fastly-secret"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Purge(context.Background(), moved); err != nil {
		t.Fatal(err)
	}
	r := api.got()[0]
	if r.method != "POST" || r.path != "/service/svc9/purge" || r.header.Get("Fastly-Key") != "fastly-secret" || r.header.Get("Surrogate-Key") != "pusher@2.2 pusher@* @index" {
		t.Errorf("request %+v", r)
	}
}

// TestCloudFrontRequest checks what the AWS SDK sends against
// CloudFront's documented CreateInvalidation: POST
// /2020-05-31/distribution/{Id}/invalidation with an InvalidationBatch of
// paths, signed with SigV4.
func TestCloudFrontRequest(t *testing.T) {
	api := newRecorder(t, `<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I1</Id><Status>InProgress</Status></Invalidation>`)
	api.status = []int{201}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	p, err := Parse("cloudfront://E2DIST?api="+api.URL, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Purge(context.Background(), moved); err != nil {
		t.Fatal(err)
	}
	r := api.got()[0]
	var batch struct {
		CallerReference string
		Paths           struct {
			Quantity int
			Items    []string `xml:"Items>Path"`
		}
	}
	if err := xml.Unmarshal([]byte(r.body), &batch); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if r.method != "POST" || r.path != "/2020-05-31/distribution/E2DIST/invalidation" || !strings.HasPrefix(r.header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") ||
		batch.Paths.Quantity != len(moved.Paths()) || strings.Join(batch.Paths.Items, " ") != strings.Join(moved.Paths(), " ") || !strings.HasPrefix(batch.CallerReference, "cdnserve-pusher-2.2.4-") {
		t.Errorf("request %s %s %q\n%s", r.method, r.path, r.header.Get("Authorization"), r.body)
	}
}

// TestSetRetriesAndReports: a failing edge is retried with backoff and
// reported, a refused token is not retried, and nothing returns an error
// to the caller.
func TestSetRetriesAndReports(t *testing.T) {
	flaky := newRecorder(t, "")
	flaky.status = []int{503, 503}
	denied := newRecorder(t, `{"success":false}`)
	denied.status = []int{403, 403, 403, 403}
	a, _ := Parse("xkey+"+flaky.URL, env(nil), nil)
	b, _ := Parse("fastly://s?api="+denied.URL, env(map[string]string{"FASTLY_API_TOKEN": "t"}), nil)
	var mu sync.Mutex
	var reported []Result
	set := &Set{Purgers: []Purger{a, b}, After: 50 * time.Millisecond, Backoff: 10 * time.Millisecond, OnResult: func(r Result) { mu.Lock(); reported = append(reported, r); mu.Unlock() }}
	start := time.Now()
	results := set.Purge(context.Background(), moved)
	if time.Since(start) < 50*time.Millisecond {
		t.Error("Set.After was not waited")
	}
	if len(results) != 2 || results[0].Err != nil || results[0].Attempts != 3 {
		t.Errorf("the flaky edge: %+v", results[0])
	}
	if results[1].Err == nil || results[1].Attempts != 1 || !strings.Contains(results[1].Err.Error(), "HTTP 403") || strings.Contains(results[1].Err.Error(), "t\"") {
		t.Errorf("the refused token: %+v", results[1])
	}
	if len(reported) != 2 {
		t.Errorf("reported %d results", len(reported))
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"ftp://x", `unknown scheme "ftp"`},
		{"fastly://", "no service id"},
		{"fastly://s", "set FASTLY_API_TOKEN"},
		{"cloudfront://", "no distribution id"},
		{"not a url", "not a URL"},
		{"https://user:pw@edge.example", ""},
	} {
		_, err := Parse(tc.raw, env(nil), nil)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.raw, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: %v", tc.raw, err)
		}
	}
}

// TestSetNeverPurgesPrivate: a private library is never named to an
// edge, whoever asks (a publish, prune, a replica's journal).
func TestSetNeverPurgesPrivate(t *testing.T) {
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b WebhookBody
		json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		got = append(got, b.Library+" "+b.To)
		mu.Unlock()
	}))
	defer hook.Close()
	p, err := Parse("webhook+"+hook.URL, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	set := &Set{Purgers: []Purger{p}, Private: []string{"@corp/*", "-"}}
	for _, tc := range []struct {
		name    string
		event   Event
		wantRes int
	}{
		{"a scoped private library", Event{Library: "@corp/ui", Alias: "1.0", From: "1.0.0", To: "1.0.1"}, 0},
		{"the private root library", Event{Library: "", Alias: "1.0", To: "1.0.1"}, 0},
		{"a public library", Event{Library: "pusher", Alias: "2.2", From: "2.2.3", To: "2.2.4"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := set.Purge(context.Background(), tc.event); len(res) != tc.wantRes {
				t.Errorf("Purge sent %d purges, want %d: %+v", len(res), tc.wantRes, res)
			}
		})
	}
}
