package esm

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestPlanFromRealLockfile: npm deduped react-dom, react, lit and
// preact to one version each, so the plan has no scope.
func TestPlanFromRealLockfile(t *testing.T) {
	raw, _ := os.ReadFile("testdata/package-lock.json")
	lf, err := ParseLockfile(raw, "package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanFromLockfile(lf, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Top) != 12 || plan.Top["react"] != "18.3.1" || plan.Top["lit-html"] == "" || len(plan.Scopes) != 0 {
		t.Errorf("plan: %+v", plan)
	}
}

// TestPlanScopes: where npm nested a second version, the package that
// needs it gets it in its scope, found as Node finds it (its own
// node_modules, then each one up), and everyone else gets the top one.
func TestPlanScopes(t *testing.T) {
	const sha = `"integrity":"sha512-AAAA"`
	lock := `{"lockfileVersion":3,"packages":{
		"":{"dependencies":{"a":"^1","b":"^1","c":"^1"}},
		"node_modules/a":{"version":"1.0.0",` + sha + `,"dependencies":{"b":"^2","c":"^1"}},
		"node_modules/a/node_modules/b":{"version":"2.0.0",` + sha + `,"dependencies":{"c":"^2"}},
		"node_modules/a/node_modules/c":{"version":"2.5.0",` + sha + `},
		"node_modules/b":{"version":"1.0.0",` + sha + `,"dependencies":{"c":"^1"}},
		"node_modules/c":{"version":"1.2.0",` + sha + `},
		"node_modules/d":{"version":"1.0.0","dev":true,` + sha + `}}}`
	lf, err := ParseLockfile([]byte(lock), "package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanFromLockfile(lf, false)
	if err != nil {
		t.Fatal(err)
	}
	wantTop := map[string]string{"a": "1.0.0", "b": "1.0.0", "c": "1.2.0"}
	wantScopes := map[string]map[string]string{
		"a@1.0.0": {"b": "2.0.0", "c": "2.5.0"}, // a's own node_modules
		"b@2.0.0": {"c": "2.5.0"},               // a/node_modules/b finds a/node_modules/c, one level up
	}
	if !reflect.DeepEqual(plan.Top, wantTop) || !reflect.DeepEqual(plan.Scopes, wantScopes) {
		t.Errorf("plan:\n top %v\n scopes %v", plan.Top, plan.Scopes)
	}
	// The same package@version placed twice with different dependencies
	// cannot be one scope: the plan says so.
	twice := strings.Replace(lock, `"node_modules/c":{`, `"node_modules/other/node_modules/b":{"version":"2.0.0",`+sha+`,"dependencies":{"c":"^1"}},"node_modules/other":{"version":"1.0.0",`+sha+`},"node_modules/c":{`, 1)
	lf, err = ParseLockfile([]byte(twice), "package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PlanFromLockfile(lf, false); err == nil || !strings.Contains(err.Error(), "b@2.0.0 is installed twice") {
		t.Errorf("err = %v", err)
	}
}
