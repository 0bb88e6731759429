package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The layout rules of DESIGN.md ("Layout rules"), checked on the whole
// module: imports flow one way, and no file or function grows past the
// sizes a reader can hold.
const (
	maxFileLines = 600
	maxFuncLines = 150
	module       = "thunderline"
)

// root is the module's root, from this package's directory.
const root = "../.."

type goPackage struct {
	ImportPath   string
	Doc          string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; run from cmd/thunderline", len(pkgs))
	}
	return pkgs
}

// layer is a package's top-level room: hotpath, adapters, persist, actors,
// engine, cmd or bench.
func layer(path string) string {
	rest := strings.TrimPrefix(path, module+"/")
	if rest == path {
		return "" // not ours
	}
	top, _, _ := strings.Cut(rest, "/")
	return top
}

// allowed says whether a package in room from may import one in room to.
// hotpath ← adapters, persist ← actors ← engine ← cmd, bench; profiles (the
// embedded YAML files) is a leaf that engine reads.
func allowed(from, to string) bool {
	rank := map[string]int{"hotpath": 0, "profiles": 0, "adapters": 1, "persist": 1, "actors": 2, "engine": 3, "cmd": 4, "bench": 4}
	rf, okf := rank[from]
	rt, okt := rank[to]
	if !okf || !okt {
		return false
	}
	if from == to {
		return true
	}
	if from == "persist" && to == "adapters" {
		// persist decodes the journal's EDGAR records (adapters/edgar/edgarrec,
		// a leaf over hotpath): see DESIGN.md.
		return true
	}
	return rf > rt
}

func TestImportsFlowOneWay(t *testing.T) {
	for _, p := range listPackages(t) {
		from := layer(p.ImportPath)
		check := func(imps []string, what string) {
			for _, imp := range imps {
				if (imp == module+"/hotpath/alloctest" || imp == module+"/persist/journal/smallfs" || imp == module+"/adapters/moldbpf/vethns") && what == "imports" {
					t.Errorf("%s imports %s: a test helper, for tests only", p.ImportPath, imp)
				}
				to := layer(imp)
				if to == "" {
					continue
				}
				if from == "hotpath" && to != "hotpath" {
					t.Errorf("%s %s %s: hotpath imports nothing outside hotpath", p.ImportPath, what, imp)
					continue
				}
				if !allowed(from, to) {
					t.Errorf("%s %s %s: %s may not import %s", p.ImportPath, what, imp, from, to)
				}
			}
		}
		check(p.Imports, "imports")
		// Tests may reach up (an engine test of an actor, a cmd test of the
		// engine), except in hotpath, which stays self-contained.
		if from == "hotpath" {
			check(p.TestImports, "test imports")
			check(p.XTestImports, "test imports")
		}
	}
}

// Every package says what it owns in its doc comment (doc.go).
func TestEveryPackageHasADoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s: no package doc comment (add a doc.go)", p.ImportPath)
		}
	}
}

func TestFileAndFunctionSizes(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
			t.Errorf("%s: %d lines (at most %d outside tests)", rel, n, maxFileLines)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > maxFuncLines {
				t.Errorf("%s: func %s has %d lines (at most %d outside tests)", rel, fn.Name.Name, n, maxFuncLines)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
