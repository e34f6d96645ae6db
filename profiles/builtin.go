package profiles

import (
	"embed"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin is an embedded profile.
type Builtin struct {
	Name        string
	Description string
	Source      []byte
}

// Builtins lists the embedded profiles by name.
func Builtins() ([]Builtin, error) {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		return nil, fmt.Errorf("profiles: reading built-ins: %w", err)
	}
	var out []Builtin
	for _, e := range entries {
		b, err := builtinFS.ReadFile(path.Join("builtin", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("profiles: reading %s: %w", e.Name(), err)
		}
		var head struct {
			Description string `yaml:"description"`
		}
		_ = yaml.Unmarshal(b, &head) // validated by tests; the description is cosmetic here
		out = append(out, Builtin{Name: strings.TrimSuffix(e.Name(), ".yaml"), Description: head.Description, Source: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func read(nameOrPath string) ([]byte, string, error) {
	if b, err := builtinFS.ReadFile(path.Join("builtin", nameOrPath+".yaml")); err == nil && !strings.ContainsAny(nameOrPath, "/\\.") {
		return b, "builtin:" + nameOrPath, nil
	}
	b, err := readProfile(nameOrPath)
	if err != nil {
		names := []string{}
		if bs, e := Builtins(); e == nil {
			for _, x := range bs {
				names = append(names, x.Name)
			}
		}
		return nil, "", fmt.Errorf("profile %q is neither a built-in (%s) nor a readable file: %w",
			nameOrPath, strings.Join(names, ", "), err)
	}
	return b, nameOrPath, nil
}

// readProfile reads a profile file of at most MaxProfileBytes (a pipe
// such as <(...) is fine; /dev/zero ends at the cap).
func readProfile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxProfileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxProfileBytes {
		return nil, fmt.Errorf("larger than the %d MiB a profile may be", MaxProfileBytes>>20)
	}
	return b, nil
}
