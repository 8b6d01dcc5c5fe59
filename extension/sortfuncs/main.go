// Command sortfuncs orders the top-level functions of a Go source file by name, in place.
//
//	go run ./extension/sortfuncs FILE
//
// gopy writes the functions of a bound package in the order of a Go map, so the
// same binding gives a different file on every run, and, since cgo hashes the
// file into symbol names, a different library. Sorted, the build is
// reproducible. Each function moves with its doc comment, //export line
// included; everything else in the file stays where it is.
package main

import (
	"bytes"
	"cmp"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"slices"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sortfuncs FILE")
		os.Exit(2)
	}
	if err := sortFile(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "sortfuncs:", err)
		os.Exit(1)
	}
}

func sortFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sorted, err := sortFuncs(path, src)
	if err != nil {
		return err
	}
	return os.WriteFile(path, sorted, 0o644)
}

// span is a top-level function's text, doc comment included, as byte offsets into the source.
type span struct {
	name       string
	start, end int
}

// sortFuncs returns src with its top-level functions in order of name (receiver type first).
func sortFuncs(path string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var places []span
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		start := fn.Pos()
		if fn.Doc != nil {
			start = fn.Doc.Pos()
		}
		places = append(places, span{funcName(fn), fset.Position(start).Offset, fset.Position(fn.End()).Offset})
	}
	byName := slices.Clone(places)
	slices.SortStableFunc(byName, func(a, b span) int { return cmp.Compare(a.name, b.name) })
	// Each function's place is filled by the function of the same rank by name.
	var out bytes.Buffer
	last := 0
	for i, place := range places {
		out.Write(src[last:place.start])
		out.Write(src[byName[i].start:byName[i].end])
		last = place.end
	}
	out.Write(src[last:])
	return format.Source(out.Bytes())
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	var recv bytes.Buffer
	format.Node(&recv, token.NewFileSet(), fn.Recv.List[0].Type)
	return recv.String() + "." + fn.Name.Name
}
