//go:build linux

package tests

import (
	"slices"
	"strings"
	"testing"
)

// everyKey is a table of one case with every key the format has, each of which
// TestParseCasesRejectsAMisspeltKey misspells.
const everyKey = `{"about": "", "cases": [{"name": "x", "flags": [], "python_value": {"bool": false},
	"expect": {"ok": {"nonblock": false, "cloexec": false, "packet": false}},
	"expect_python": {"exception": "TypeError"}, "expect_emulated": {"errno": "EINVAL"}}]}`

func TestParseCasesRejectsAMisspeltKey(t *testing.T) {
	if _, err := parseCases([]byte(everyKey)); err != nil {
		t.Fatalf("the control, every key spelt right: %v", err)
	}
	for right, wrong := range map[string]string{
		"about": "abuot", "cases": "case", "name": "nmae", "flags": "flag", "python_value": "python_vaule",
		"expect": "expcet", "expect_python": "expect_pyhton", "expect_emulated": "expect_emualted",
		"ok": "okay", "errno": "erno", "exception": "exeption",
		"nonblock": "nonblok", "cloexec": "cloexc", "packet": "packets",
	} {
		misspelt := strings.Replace(everyKey, `"`+right+`"`, `"`+wrong+`"`, 1)
		_, err := parseCases([]byte(misspelt))
		if err == nil || !strings.Contains(err.Error(), `unknown field "`+wrong+`"`) {
			t.Errorf("%s misspelt %s: error %v, want one naming the unknown field", right, wrong, err)
		}
	}
}

func TestParseCasesRejectsDataAfterTheTable(t *testing.T) {
	if _, err := parseCases([]byte(everyKey + ` {}`)); err == nil {
		t.Error("a second JSON value after the table was accepted")
	}
}

func TestEveryCaseWithAGoExpectationRunsInGo(t *testing.T) {
	all, err := Cases()
	if err != nil {
		t.Fatal(err)
	}
	for _, native := range []bool{true, false} {
		_, cases, err := GoCases(native)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range all {
			runs := slices.ContainsFunc(cases, func(g Case) bool { return g.Name == c.Name })
			if want := c.Expect != nil; runs != want {
				t.Errorf("native pipe2 %v: case %q runs in Go: %v; it has an expectation for Go: %v", native, c.Name, runs, want)
			}
		}
	}
}

func TestTheTableNamesOnlyErrnosGoKnows(t *testing.T) {
	all, err := Cases()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		for _, o := range []*Outcome{c.Expect, c.ExpectPython, c.ExpectEmulated} {
			if o != nil && o.Errno != "" {
				if _, known := Errnos[o.Errno]; !known {
					t.Errorf("case %q: errno %s is not in Errnos", c.Name, o.Errno)
				}
			}
		}
	}
}
