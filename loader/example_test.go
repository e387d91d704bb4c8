package loader_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/cdnserve/cdnserve/demo"
	"github.com/cdnserve/cdnserve/loader"
	"github.com/cdnserve/cdnserve/server"
	"github.com/spf13/afero"
)

// demoCDN runs a real cdnserve server over the embedded demo library, so
// the examples load real files.
func demoCDN() *httptest.Server {
	fs := afero.NewMemMapFs()
	if _, err := demo.Publish(context.Background(), fs, "/dist"); err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{Fs: fs, Root: "/dist"})
	if err != nil {
		log.Fatal(err)
	}
	return httptest.NewServer(srv)
}

// The URL rules of the seed's DependencyLoader: the chosen base without
// trailing slashes, the full version, the name, the suffix and ".js".
func ExampleLoader_Path() {
	l, err := loader.New(loader.Options{
		CDNHTTP:  "http://js.example.com/",
		CDNHTTPS: "https://js.example.com/",
		Version:  "2.2.3",
		Suffix:   ".min",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.Root(true))
	fmt.Println(l.Path("sockjs", false))
	fmt.Println(l.PathOf("WebSocketMain.swf", true))
	// Output:
	// https://js.example.com/2.2.3
	// http://js.example.com/2.2.3/sockjs.min.js
	// https://js.example.com/2.2.3/WebSocketMain.swf
}

// Load fetches a dependency, verifies it against the version's integrity
// manifest, and caches it.
func ExampleLoader_Load() {
	cdn := demoCDN()
	defer cdn.Close()
	l, err := loader.New(loader.Options{
		CDNHTTPS:  cdn.URL,
		Mirrors:   []string{cdn.URL + "/"}, // tried if the first base fails
		Version:   "1.1.0",
		Suffix:    ".min",
		Encrypted: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	js, err := l.Load(context.Background(), "widget")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Contains(string(js), `version:"1.1.0"`))
	// Output: true
}

// ScriptTag renders the markup a Go web app puts in its pages, with SRI.
func ExampleLoader_ScriptTag() {
	cdn := demoCDN()
	defer cdn.Close()
	l, err := loader.New(loader.Options{CDNHTTPS: cdn.URL, Version: "1.1.0", Suffix: ".min", Encrypted: true})
	if err != nil {
		log.Fatal(err)
	}
	tag, err := l.ScriptTag(context.Background(), "demo")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Replace(string(tag), cdn.URL, "https://cdn.example.com", 1)[:74])
	fmt.Println(strings.Contains(string(tag), `integrity="sha384-`), strings.HasSuffix(string(tag), ` crossorigin="anonymous"></script>`))
	// Output:
	// <script src="https://cdn.example.com/1.1.0/demo.min.js" integrity="sha384-
	// true true
}
