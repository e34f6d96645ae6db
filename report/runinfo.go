package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"
)

// runInfo is run-info.json: what summary.json leaves out to stay
// deterministic.
type runInfo struct {
	Profile     string  `json:"profile"`
	Source      string  `json:"source"`
	Commit      string  `json:"commit"`
	Go          string  `json:"go"`
	Host        string  `json:"host"`
	Started     string  `json:"started"`
	WallS       float64 `json:"wall_s"`
	Interrupted bool    `json:"interrupted"`
}

// phase is one of the profile's HSS fault phases, in virtual seconds.
type phase struct {
	From, To float64
	Label    string
}

// runFiles are the run directory's files the report shows besides the
// results: run-info.json and profile.yaml (either may be missing: a run of
// an older version, or a compare's overlay).
type runFiles struct {
	Info    *runInfo
	Profile string
	Phases  []phase
}

func readRunFiles(dir string) (runFiles, error) {
	var rf runFiles
	b, err := os.ReadFile(filepath.Join(dir, "run-info.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return rf, fmt.Errorf("report: %w", err)
	default:
		rf.Info = new(runInfo)
		if err := json.Unmarshal(b, rf.Info); err != nil {
			return rf, fmt.Errorf("report: %s/run-info.json: %w", dir, err)
		}
	}
	b, err = os.ReadFile(filepath.Join(dir, "profile.yaml"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return rf, fmt.Errorf("report: %w", err)
	default:
		rf.Profile = string(b)
		if rf.Phases, err = faultPhases(b); err != nil {
			return rf, fmt.Errorf("report: %s/profile.yaml: %w", dir, err)
		}
	}
	return rf, nil
}

// faultPhases reads hss.faults from a profile as regstorm profiles show
// prints it.
func faultPhases(b []byte) ([]phase, error) {
	var doc struct {
		HSS struct {
			Faults []struct {
				At          string  `yaml:"at"`
				For         string  `yaml:"for"`
				Kind        string  `yaml:"kind"`
				Multiplier  float64 `yaml:"multiplier"`
				Rate        float64 `yaml:"rate"`
				Probability float64 `yaml:"probability"`
				Codes       []int64 `yaml:"codes"`
			} `yaml:"faults"`
		} `yaml:"hss"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("reading hss.faults: %w", err)
	}
	var out []phase
	for _, f := range doc.HSS.Faults {
		at, err := time.ParseDuration(f.At)
		if err != nil {
			return nil, fmt.Errorf("hss.faults at: %w", err)
		}
		d, err := time.ParseDuration(f.For)
		if err != nil {
			return nil, fmt.Errorf("hss.faults for: %w", err)
		}
		label := "HSS " + f.Kind
		switch f.Kind {
		case "latency":
			label += fmt.Sprintf(" ×%g", f.Multiplier)
		case "errors":
			label += fmt.Sprintf(" %g%%", 100*f.Rate)
		case "drop":
			label += fmt.Sprintf(" %g%%", 100*f.Probability)
		}
		out = append(out, phase{From: at.Seconds(), To: (at + d).Seconds(), Label: label})
	}
	return out, nil
}
