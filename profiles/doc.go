// Package profiles is regstorm's scenario format: a strict YAML document (an
// unknown or mistyped key is an error naming file and line) describing the
// UE population and its arrival process, the network, the S-CSCF and HSS
// settings and the variants to compare. Every variant runs on the same seed.
//
// Built-in profiles are embedded with go:embed and addressed by name
// ("default"); Load accepts either a built-in name or a file path, and
// applies --set key=value overrides before validation.
package profiles
