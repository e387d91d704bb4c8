package storage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"gocloud.dev/blob"
)

// probeTimeout bounds the one request Open makes to check a bucket.
const probeTimeout = 20 * time.Second

// probe lists one key of the bucket, so that a URL, region or credential
// that cannot work fails at once, with its likely cause and fix, rather
// than later as an SDK message behind a file operation.
func probe(ctx context.Context, b *blob.Bucket, display, bucket string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, _, err := b.ListPage(ctx, blob.FirstPageToken, 1, nil)
	if err == nil {
		return nil
	}
	return fmt.Errorf("storage %s: %s (%w)", display, explain(err, bucket), err)
}

// explain names the one likely cause of an S3 error and its fix.
func explain(err error, bucket string) string {
	msg := err.Error()
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && strings.HasPrefix(dns.Name, bucket+"."):
		return fmt.Sprintf("the host %s does not resolve: this endpoint does not serve buckets as subdomains; add use_path_style=true to the URL", dns.Name)
	case errors.As(err, &dns):
		return fmt.Sprintf("the endpoint's host %s does not resolve: check endpoint= in the URL", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens at the endpoint: check endpoint= in the URL, and that the S3 service runs"
	case strings.Contains(msg, "get credentials") || strings.Contains(msg, "NoCredentialProviders") || strings.Contains(msg, "failed to retrieve credentials"):
		return "no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (a profile in ~/.aws/credentials), or run where an instance or pod role is available"
	case strings.Contains(msg, "MissingRegion") || strings.Contains(msg, "region was not a valid") || strings.Contains(msg, `the region "" is wrong`) || strings.Contains(msg, "could not find region"):
		return "no region is set: add region=… to the URL, or set AWS_REGION"
	case strings.Contains(msg, "AuthorizationHeaderMalformed") && strings.Contains(msg, "region"):
		return "the region does not match the bucket's: set region= in the URL (or AWS_REGION) to the one the service names"
	case strings.Contains(msg, "NoSuchBucket"):
		return fmt.Sprintf("bucket %q does not exist: create it, or fix the name in the URL", bucket)
	case strings.Contains(msg, "InvalidAccessKeyId") || strings.Contains(msg, "SignatureDoesNotMatch"):
		return "the credentials are not accepted: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile)"
	case strings.Contains(msg, "AccessDenied") || strings.Contains(msg, "StatusCode: 403"):
		return "the credentials may not list this bucket: grant s3:ListBucket (and s3:GetObject, s3:PutObject to publish)"
	}
	return "the bucket cannot be listed"
}
