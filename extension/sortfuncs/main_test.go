package main

import (
	"strings"
	"testing"
)

const shuffled = `package main

import "C"

// B is exported second.
//
//export B
func B() {}

var between = 1

//export A
func A() {}

func (t T) M() {}

type T struct{}

func C2() {}
`

func TestSortFuncsOrdersByNameKeepingDocsAndOtherDecls(t *testing.T) {
	got, err := sortFuncs("x.go", []byte(shuffled))
	if err != nil {
		t.Fatal(err)
	}
	out := string(got)
	order := []string{"//export A\nfunc A()", "// B is exported second.\n//\n//export B\nfunc B()", "func C2()", "func (t T) M()"}
	last := -1
	for _, want := range order {
		i := strings.Index(out, want)
		if i <= last {
			t.Fatalf("%q is not in order (at %d, after %d) in:\n%s", want, i, last, out)
		}
		last = i
	}
	if !strings.Contains(out, "var between = 1") || !strings.Contains(out, "type T struct{}") {
		t.Errorf("a declaration other than a function was lost:\n%s", out)
	}
}

func TestSortFuncsIsIdempotentAndOrderBlind(t *testing.T) {
	once, err := sortFuncs("x.go", []byte(shuffled))
	if err != nil {
		t.Fatal(err)
	}
	twice, err := sortFuncs("x.go", once)
	if err != nil {
		t.Fatal(err)
	}
	if string(once) != string(twice) {
		t.Errorf("sorting a sorted file changed it:\n%s\n---\n%s", once, twice)
	}
	// The same functions in the same places, in another order, as gopy writes them from run to run.
	swap := strings.NewReplacer("//export A\nfunc A() {}", "func C2() {}", "func C2() {}", "//export A\nfunc A() {}")
	again, err := sortFuncs("x.go", []byte(swap.Replace(shuffled)))
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(once) {
		t.Errorf("two orders of the same functions sort differently:\n%s\n---\n%s", again, once)
	}
}
