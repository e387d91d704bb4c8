package main

import "runtime/debug"

// version is set at link time: -ldflags "-X main.version=1.2.3".
var version = ""

// toolVersion is cdnserve's version: the link-time one, else the module
// version Go recorded, else "devel".
func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
