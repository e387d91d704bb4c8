// Package s3test gives tests a fresh bucket on the S3-compatible server
// that scripts/s3-test-server.sh starts (versitygw). Tests call Bucket;
// without CDNSERVE_TEST_S3_ENDPOINT they skip loudly. CI always sets it.
package s3test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// EndpointVar names the variable that holds the test server's URL.
const EndpointVar = "CDNSERVE_TEST_S3_ENDPOINT"

var seq atomic.Int64

// Endpoint returns the test server's URL, or skips the test.
func Endpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv(EndpointVar)
	if ep == "" {
		t.Skipf("SKIPPED LOUDLY: %s is unset, so the S3 integration tests did not run; start the server with: eval \"$(scripts/s3-test-server.sh start)\"", EndpointVar)
	}
	return ep
}

// Bucket creates a new, empty bucket and returns the storage URL of a
// prefix in it, as --storage takes it, for the given endpoint.
func Bucket(t testing.TB, endpoint string) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%d-%s", time.Now().UnixNano()%1e9, seq.Add(1), sanitize(t.Name()))
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.TrimRight(name, "-")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := Client(t, endpoint).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	return URL(name, "cdn", endpoint)
}

// URL is the storage URL of a prefix in a bucket on endpoint.
func URL(bucket, prefix, endpoint string) string {
	return "s3://" + bucket + "/" + prefix + "?endpoint=" + endpoint + "&region=us-east-1&use_path_style=true"
}

// Client is an S3 client for the test server, with credentials from the
// environment that scripts/s3-test-server.sh exports.
func Client(t testing.TB, endpoint string) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
