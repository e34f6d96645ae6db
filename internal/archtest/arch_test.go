package archtest

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/regstorm/regstorm"

// cores are the deterministic state machines.
var cores = []string{"ue", "scscf", "hss"}

func root(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func list(t *testing.T, pattern string) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps=false", "-json", pattern).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// ARCHITECTURE.md §2: cores import sim, internal/..., results and hss/cx,
// never the live runtime, the network, the OS or a codec library directly;
// sim and results never import the cores.
func TestImportRules(t *testing.T) {
	forbiddenForCores := []string{"net", "os", "os/exec", "syscall", "math/rand", "sync", module + "/sim/live",
		"github.com/emiago/sipgo", "github.com/fiorix/go-diameter/v4/diam/sm", module + "/profiles", module + "/cmd/regstorm"}
	for _, c := range cores {
		for _, p := range list(t, module+"/"+c+"/...") {
			if strings.Contains(p.ImportPath, "/live") {
				continue
			}
			for _, imp := range p.Imports {
				for _, f := range forbiddenForCores {
					if f == "sync" && strings.HasSuffix(p.ImportPath, "/hss/cx") {
						continue // the codec loads its dictionary once (sync.Once); it holds no core state
					}
					if imp == f || strings.HasPrefix(imp, f+"/") {
						t.Errorf("%s imports %s (ARCHITECTURE.md §2)", p.ImportPath, imp)
					}
				}
			}
			for _, d := range p.Deps {
				if strings.HasPrefix(d, module+"/sim/live") {
					t.Errorf("%s depends on the live runtime via %s", p.ImportPath, d)
				}
			}
		}
	}
	// profiles sits above the cores (it fills their Config from a file and
	// reports their field errors at the file's lines), below the wiring and
	// the runtimes.
	for _, p := range list(t, module+"/profiles") {
		for _, imp := range p.Imports {
			for _, f := range []string{module + "/sim/live", module + "/internal/scenario", module + "/cmd/regstorm"} {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					t.Errorf("%s imports %s: profiles is below the wiring and the runtimes", p.ImportPath, imp)
				}
			}
		}
	}
	for _, low := range []string{"sim", "results"} {
		for _, p := range list(t, module+"/"+low) {
			for _, imp := range p.Imports {
				for _, c := range cores {
					if imp == module+"/"+c || strings.HasPrefix(imp, module+"/"+c+"/") {
						t.Errorf("%s imports the core %s", p.ImportPath, imp)
					}
				}
			}
		}
	}
}

// ARCHITECTURE.md §2, transitively: no core links plots (gonum), the SIP
// codec (sipgo: internal/sipwire converts at the edge) or go-diameter's
// peer state machine (diam/sm: live only), through any package.
func TestCoreTransitiveDeps(t *testing.T) {
	forbidden := []string{"gonum.org/", "github.com/emiago/sipgo", "github.com/fiorix/go-diameter/v4/diam/sm"}
	for _, c := range cores {
		out, err := exec.Command("go", "list", "-deps", module+"/"+c).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", c, err)
		}
		for _, d := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if d == strings.TrimSuffix(f, "/") || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/") {
					t.Errorf("%s depends on %s (go list -deps)", c, d)
				}
			}
		}
	}
}

// The determinism contract: no wall clock, goroutines, global randomness or
// random UUIDs in the cores (tests excepted).
func TestCoresAreDeterministic(t *testing.T) {
	wall := map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "Tick": true,
		"NewTimer": true, "NewTicker": true, "AfterFunc": true}
	randCtor := map[string]bool{"New": true, "NewPCG": true, "NewChaCha8": true, "NewSource": true, "NewZipf": true}
	dir := root(t)
	for _, c := range cores {
		files, _ := filepath.Glob(filepath.Join(dir, c, "*.go"))
		sub, _ := filepath.Glob(filepath.Join(dir, c, "*", "*.go"))
		for _, f := range append(files, sub...) {
			if strings.HasSuffix(f, "_test.go") || strings.Contains(f, string(filepath.Separator)+"live"+string(filepath.Separator)) {
				continue
			}
			fset := token.NewFileSet()
			af, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]string{} // local name -> import path
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				name := filepath.Base(path)
				if path == "math/rand/v2" {
					name = "rand"
				}
				if imp.Name != nil {
					name = imp.Name.Name
				}
				names[name] = path
			}
			ast.Inspect(af, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: go statement in a core", fset.Position(n.Pos()))
				case *ast.SelectorExpr:
					id, ok := n.X.(*ast.Ident)
					if !ok {
						return true
					}
					switch names[id.Name] {
					case "time":
						if wall[n.Sel.Name] {
							t.Errorf("%s: time.%s in a core (use sim.Env)", fset.Position(n.Pos()), n.Sel.Name)
						}
					case "math/rand", "math/rand/v2":
						if !randCtor[n.Sel.Name] && ast.IsExported(n.Sel.Name) && n.Sel.Name != "Rand" && n.Sel.Name != "Source" {
							t.Errorf("%s: global rand.%s in a core (use env.Rand())", fset.Position(n.Pos()), n.Sel.Name)
						}
					case "github.com/google/uuid":
						t.Errorf("%s: uuid in a core", fset.Position(n.Pos()))
					}
				}
				return true
			})
		}
	}
}
