package profiles

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// applySet sets a scalar at a dotted path in a YAML document tree, creating
// mapping keys as needed; numeric components index sequences.
func applySet(root *yaml.Node, set string) error {
	key, val, ok := strings.Cut(set, "=")
	if !ok || key == "" {
		return errors.New("want key.path=value")
	}
	n := root
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	parts := strings.Split(key, ".")
	for i, part := range parts {
		last := i == len(parts)-1
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == part {
					next = n.Content[j+1]
				}
			}
			if next == nil {
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: part}, next)
			}
			if last {
				*next = yaml.Node{Kind: yaml.ScalarNode, Value: val}
			}
			n = next
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(part)
			if err != nil || idx < 0 || idx >= len(n.Content) {
				return fmt.Errorf("%q is not an index of a list of %d items", part, len(n.Content))
			}
			if last {
				*n.Content[idx] = yaml.Node{Kind: yaml.ScalarNode, Value: val}
			}
			n = n.Content[idx]
		default:
			return fmt.Errorf("%q is inside a scalar", part)
		}
	}
	return nil
}
