package scan

import (
	"reflect"
	"strings"
	"testing"
)

// TestImports: every way a module names another, as esbuild's parser
// finds them; look-alikes in comments and strings are not imports.
func TestImports(t *testing.T) {
	src := `
import React, { useState } from "react";
import * as ns from "./ns.js";
import "./side-effect.css";
export * from "@floating-ui/core";
export { a as b } from "./reexport.js";
// import fake from "in-a-comment";
const s = "import x from 'in-a-string'";
const t = ` + "`import('in-a-template')`" + `;
const lazy = () => import("./lazy.js");
const dyn = (name) => import(name);
const cjs = require("object-assign");
import again from "react";
console.log(import.meta.url, React, useState, ns, again, lazy, dyn, cjs, s, t);
`
	got, err := Imports([]byte(src), "index.js")
	if err != nil {
		t.Fatal(err)
	}
	want := []Import{
		{"react", Static}, {"./ns.js", Static}, {"./side-effect.css", Static}, {"@floating-ui/core", Static},
		{"./reexport.js", Static}, {"./lazy.js", Dynamic}, {"object-assign", Require},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("imports:\n got %v\nwant %v", got, want)
	}
}

// TestImportsOfOtherLanguages: TypeScript's type-only imports are not
// imports; CSS's @import is.
func TestImportsOfOtherLanguages(t *testing.T) {
	ts, err := Imports([]byte(`import type { T } from "types-only"; import { v } from "./v"; export const x: T = v;`), "a.ts")
	if err != nil || !reflect.DeepEqual(ts, []Import{{"./v", Static}}) {
		t.Errorf("ts: %v %v", ts, err)
	}
	css, err := Imports([]byte(`@import "./base.css"; a { color: red }`), "a.css")
	if err != nil || !reflect.DeepEqual(css, []Import{{"./base.css", CSS}}) {
		t.Errorf("css: %v %v", css, err)
	}
}

// TestImportsSyntaxError names the file, line and column.
func TestImportsSyntaxError(t *testing.T) {
	_, err := Imports([]byte("import { from 'x';\n"), "broken.mjs")
	if err == nil || !strings.HasPrefix(err.Error(), "broken.mjs:1:") {
		t.Errorf("err = %v", err)
	}
}
