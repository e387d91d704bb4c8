package server

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/storage"

	"github.com/cdnserve/cdnserve/internal/testutil"
)

// TestListenAndServe: plain HTTP and HTTPS (HTTP/2) listeners on ":0"
// serve the tree, say where they listen, and stop cleanly when the
// context ends.
func TestListenAndServe(t *testing.T) {
	f := newFixture(t, "1.7.1")
	s, err := New(Config{Fs: storage.DiskFs{}, Root: f.root})
	if err != nil {
		t.Fatal(err)
	}
	cert, key, _ := testutil.SelfSigned(t)
	ctx, cancel := context.WithCancel(context.Background())
	bound := make(chan []Listening, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.ListenAndServe(ctx, ListenOptions{Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", TLSCert: cert, TLSKey: key,
			ShutdownTimeout: 5 * time.Second, Listening: func(ls []Listening) { bound <- ls }})
	}()
	var ls []Listening
	select {
	case ls = <-bound:
	case err := <-done:
		t.Fatalf("ListenAndServe returned before listening: %v", err)
	}
	if len(ls) != 2 || ls[0].Scheme != "http" || ls[1].Scheme != "https" || strings.HasSuffix(ls[0].Addr.String(), ":0") {
		t.Fatalf("Listening = %+v, want http and https on bound ports", ls)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	for _, l := range ls {
		resp, err := client.Get(l.Scheme + "://" + l.Addr.String() + "/1.7.1/sockjs.js")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != string(f.file(t, "1.7.1/sockjs.js")) {
			t.Errorf("%s: %d, %d bytes", l.Scheme, resp.StatusCode, len(body))
		}
		if l.Scheme == "https" && resp.ProtoMajor != 2 {
			t.Errorf("https served %s, want HTTP/2", resp.Proto)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ListenAndServe after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return after its context ended")
	}
	if _, err := net.DialTimeout("tcp", ls[0].Addr.String(), time.Second); err == nil {
		t.Error("the plain listener still accepts connections after shutdown")
	}
}

func TestListenOptionsRefused(t *testing.T) {
	f := newFixture(t, "1.7.1")
	s, err := New(Config{Fs: storage.DiskFs{}, Root: f.root})
	if err != nil {
		t.Fatal(err)
	}
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	for _, tc := range []struct {
		name string
		o    ListenOptions
		want string
	}{
		{"nothing to listen on", ListenOptions{}, "nothing to listen on"},
		{"TLS without a certificate", ListenOptions{TLSAddr: "127.0.0.1:0"}, "--tls-addr needs --tls-cert and --tls-key"},
		{"a missing certificate", ListenOptions{TLSAddr: "127.0.0.1:0", TLSCert: "/nonexistent.pem", TLSKey: "/nonexistent.pem"}, "--tls-cert/--tls-key"},
		{"an address in use", ListenOptions{Addr: busy.Addr().String()}, "--addr: listen tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ListenAndServe(context.Background(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ListenAndServe = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
