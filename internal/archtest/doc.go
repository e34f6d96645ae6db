// Package archtest holds no code: its tests enforce ARCHITECTURE.md's rules
// on the rest of the module (the import table and the determinism contract
// of the cores).
package archtest
