module github.com/cdnserve/cdnserve

go 1.26.8

require (
	github.com/Masterminds/semver/v3 v3.5.0
	github.com/andybalholm/brotli v1.3.0
	github.com/evanw/esbuild v0.28.2
	github.com/spf13/afero v1.15.0
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/sys v0.0.0-20220715151400-c0bba94af5f8
)

require golang.org/x/text v0.28.0 // indirect
