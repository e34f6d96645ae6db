package profiles

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

var fieldRE = regexp.MustCompile(`^field (\S+) not found in type profiles\.(\w+)$`)

// section names the YAML section a Go type decodes.
var section = map[string]string{
	"Profile": "the top level", "Arrival": "arrival", "Subscribers": "subscribers", "Network": "network",
	"UE": "ue", "SCSCF": "scscf", "HSS": "hss", "Variant": "a variant", "Dist": "a distribution",
}

// keyAtLine returns the dotted path of the key on a line ("" if none).
func keyAtLine(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if k := keyAtLine(c, line, prefix); k != "" {
				return k
			}
		}
	case yaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			path := n.Content[j].Value
			if prefix != "" {
				path = prefix + "." + path
			}
			if n.Content[j].Line == line && n.Content[j+1].Kind == yaml.ScalarNode && n.Content[j+1].Line == line {
				return path
			}
			if k := keyAtLine(n.Content[j+1], line, path); k != "" {
				return k
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if k := keyAtLine(c, line, prefix+"."+strconv.Itoa(i)); k != "" {
				return k
			}
		}
	}
	return ""
}

// yamlProblems turns yaml.v3 errors into "where:line: message" lines; root,
// when known, names the key of a mistyped value.
func yamlProblems(err error, where string, root ...*yaml.Node) []string {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var out []string
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if g := lineRE.FindStringSubmatch(m); g != nil {
			msg := g[2]
			if f := fieldRE.FindStringSubmatch(msg); f != nil {
				msg = fmt.Sprintf("unknown key %q in %s", f[1], section[f[2]])
			}
			msg = strings.ReplaceAll(msg, "profiles.", "")
			if len(root) > 0 && !strings.HasPrefix(msg, "unknown key") {
				if l, err := strconv.Atoi(g[1]); err == nil {
					if k := keyAtLine(root[0], l, ""); k != "" {
						msg = k + ": " + msg
					}
				}
			}
			out = append(out, where+":"+g[1]+": "+msg)
			continue
		}
		out = append(out, where+": "+m)
	}
	return out
}
