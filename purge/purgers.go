package purge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/cdnserve/cdnserve/redact"
	"github.com/cdnserve/cdnserve/retry"
)

// sender sends a purger's HTTP requests through the client Parse was
// given.
type sender struct{ client *http.Client }

// do sends a request and fails on a non-2xx answer, quoting the start of
// its body. 4xx but 408 and 429 are permanent: retrying will not help.
func (s sender) do(req *http.Request) ([]byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return body, nil
	}
	err = fmt.Errorf("%s %s: HTTP %d: %.200s", req.Method, redact.URL(req.URL.String()), resp.StatusCode, bytes.TrimSpace(body))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && !retry.Retryable(resp.StatusCode) {
		return nil, retry.Permanent(err)
	}
	return nil, retry.After(err, retry.RetryAfter(resp.Header, time.Now()))
}

// urlPurger sends an HTTP PURGE for each path, with the Host the edge
// caches under (the purger's own host, or ?host=).
type urlPurger struct {
	sender
	base *url.URL
	host string
}

func newURLPurger(u *url.URL, s sender) (Purger, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("--purge %q: no host", redact.URL(u.String()))
	}
	p := &urlPurger{sender: s, base: &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}, host: u.Query().Get("host")}
	return p, nil
}

func (p *urlPurger) String() string { return p.base.String() }

func (p *urlPurger) Purge(ctx context.Context, e Event) error {
	var errs []error
	for _, path := range e.Paths() {
		req, err := http.NewRequestWithContext(ctx, "PURGE", p.base.String()+path, nil)
		if err != nil {
			return err
		}
		if p.host != "" {
			req.Host = p.host
		}
		if _, err := p.do(req); err != nil && !strings.Contains(err.Error(), "HTTP 404") {
			errs = append(errs, err) // 404: the edge did not hold it, which is fine
		}
	}
	return errors.Join(errs...)
}

// xkeyPurger purges by tag through Varnish's xkey module: one PURGE with
// the tags in an xkey-purge header (docs/varnish.vcl).
type xkeyPurger struct {
	sender
	base *url.URL
}

func newXkeyPurger(u *url.URL, s sender) (Purger, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("--purge %q: no host", redact.URL(u.String()))
	}
	return &xkeyPurger{sender: s, base: &url.URL{Scheme: strings.TrimPrefix(u.Scheme, "xkey+"), Host: u.Host, Path: "/"}}, nil
}

func (p *xkeyPurger) String() string { return "xkey+" + p.base.String() }

func (p *xkeyPurger) Purge(ctx context.Context, e Event) error {
	req, err := http.NewRequestWithContext(ctx, "PURGE", p.base.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("xkey-purge", strings.Join(e.Tags(), " "))
	_, err = p.do(req)
	return err
}

// webhook POSTs the event as JSON: {library, alias, from, to, urls, tags}.
type webhook struct {
	sender
	u *url.URL
}

func newWebhook(u *url.URL, s sender) (Purger, error) {
	w := *u
	w.Scheme = strings.TrimPrefix(u.Scheme, "webhook+")
	return &webhook{sender: s, u: &w}, nil
}

func (w *webhook) String() string { return "webhook+" + redact.URL(w.u.String()) }

// WebhookBody is what a webhook receives.
type WebhookBody struct {
	Library string `json:"library"`
	// Kind is "" for a publish (or a purge by hand), else "deprecate",
	// "undeprecate" or "remove".
	Kind  string   `json:"kind,omitempty"`
	Alias string   `json:"alias"`
	From  string   `json:"from"`
	To    string   `json:"to"`
	URLs  []string `json:"urls"`
	Tags  []string `json:"tags"`
}

func (w *webhook) Purge(ctx context.Context, e Event) error {
	body, _ := json.Marshal(WebhookBody{Library: e.Library, Kind: e.Kind, Alias: e.Alias, From: e.From, To: e.To, URLs: e.Paths(), Tags: e.Tags()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cdnserve")
	_, err = w.do(req)
	return err
}

// cloudflare purges by tag: POST /zones/{zone}/purge_cache {"tags": [...]}
// with a bearer token, at most 30 tags a request.
type cloudflare struct {
	sender
	zone, api, token string
}

func newCloudflare(zone, api, token string, s sender) (Purger, error) {
	if zone == "" {
		return nil, errors.New("--purge cloudflare://ZONE_ID: no zone id")
	}
	if token == "" {
		return nil, errors.New("--purge cloudflare://" + zone + ": set CLOUDFLARE_API_TOKEN (a token with Cache Purge permission)")
	}
	if api == "" {
		api = "https://api.cloudflare.com/client/v4"
	}
	return &cloudflare{sender: s, zone: zone, api: strings.TrimSuffix(api, "/"), token: token}, nil
}

func (c *cloudflare) String() string { return "cloudflare://" + c.zone }

func (c *cloudflare) Purge(ctx context.Context, e Event) error {
	tags := e.Tags()
	for len(tags) > 0 {
		n := min(30, len(tags))
		body, _ := json.Marshal(map[string][]string{"tags": tags[:n]})
		tags = tags[n:]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api+"/zones/"+url.PathEscape(c.zone)+"/purge_cache", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.do(req)
		if err != nil {
			return err
		}
		var r struct{ Success bool }
		if json.Unmarshal(resp, &r) != nil || !r.Success {
			return fmt.Errorf("cloudflare: the API did not report success: %.200s", resp)
		}
	}
	return nil
}

// fastly purges by surrogate key: POST /service/{id}/purge with the keys
// in a Surrogate-Key header and a Fastly-Key token, at most 256 keys a
// request.
type fastly struct {
	sender
	service, api, token string
}

func newFastly(service, api, token string, s sender) (Purger, error) {
	if service == "" {
		return nil, errors.New("--purge fastly://SERVICE_ID: no service id")
	}
	if token == "" {
		return nil, errors.New("--purge fastly://" + service + ": set FASTLY_API_TOKEN (a token with purge_select scope)")
	}
	if api == "" {
		api = "https://api.fastly.com"
	}
	return &fastly{sender: s, service: service, api: strings.TrimSuffix(api, "/"), token: token}, nil
}

func (f *fastly) String() string { return "fastly://" + f.service }

func (f *fastly) Purge(ctx context.Context, e Event) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.api+"/service/"+url.PathEscape(f.service)+"/purge", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Fastly-Key", f.token)
	req.Header.Set("Surrogate-Key", strings.Join(e.Tags(), " "))
	req.Header.Set("Accept", "application/json")
	_, err = f.do(req)
	return err
}

// cloudFront creates an invalidation of the event's paths through the
// AWS SDK, with credentials from the AWS environment.
type cloudFront struct {
	dist string
	c    *cloudfront.Client
}

func newCloudFront(dist, api string, s sender) (Purger, error) {
	if dist == "" {
		return nil, errors.New("--purge cloudfront://DISTRIBUTION_ID: no distribution id")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		return nil, fmt.Errorf("--purge cloudfront://%s: AWS configuration: %w", dist, err)
	}
	c := cloudfront.NewFromConfig(cfg, func(o *cloudfront.Options) {
		if api != "" {
			o.BaseEndpoint = aws.String(api)
		}
		o.HTTPClient = s.client
	})
	return &cloudFront{dist: dist, c: c}, nil
}

func (c *cloudFront) String() string { return "cloudfront://" + c.dist }

func (c *cloudFront) Purge(ctx context.Context, e Event) error {
	paths := e.Paths()
	_, err := c.c.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(c.dist),
		InvalidationBatch: &cftypes.InvalidationBatch{
			CallerReference: aws.String(fmt.Sprintf("cdnserve-%s-%s-%d", strings.ReplaceAll(e.Library, "/", "_"), e.To, time.Now().UnixNano())),
			Paths:           &cftypes.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	return err
}
