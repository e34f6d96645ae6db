package results

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
)

// Verdict is one expectation evaluated on one variant, as summary.json
// carries it for tools: the metric, the operator, the required and the
// measured value (nil when the metric could not be read), and the result.
type Verdict struct {
	Variant  string   `json:"variant"`
	Metric   string   `json:"metric"`
	Op       string   `json:"op"`
	Required float64  `json:"required"`
	Measured *float64 `json:"measured"`
	Passed   bool     `json:"passed"`
	Error    string   `json:"error,omitempty"`
}

// String reads like the failure lines of the command.
func (v Verdict) String() string {
	if v.Measured == nil {
		return fmt.Sprintf("%s: %s %s %g: %s", v.Variant, v.Metric, v.Op, v.Required, v.Error)
	}
	return fmt.Sprintf("%s: %s = %s, required %s %g", v.Variant, v.Metric, strconv.FormatFloat(*v.Measured, 'g', 6, 64), v.Op, v.Required)
}

// Evaluate evaluates every expectation on every variant it names (all of
// them when it names none), in the profile's order, then the variants'.
// An expectation naming a variant the run does not have fails.
func (s *Summary) Evaluate(exps []Expectation) []Verdict {
	var out []Verdict
	for _, e := range exps {
		matched := false
		for i := range s.Variants {
			v := &s.Variants[i]
			if e.Variant != "" && e.Variant != v.Name {
				continue
			}
			matched = true
			vd := Verdict{Variant: v.Name, Metric: e.Metric, Op: e.Op, Required: e.Value}
			if got, err := v.Metric(e.Metric); err != nil {
				vd.Error = err.Error()
			} else {
				vd.Measured, vd.Passed = &got, compare(got, e.Op, e.Value)
			}
			out = append(out, vd)
		}
		if !matched {
			out = append(out, Verdict{Variant: e.Variant, Metric: e.Metric, Op: e.Op, Required: e.Value, Error: "no such variant in this run"})
		}
	}
	return out
}

// Invariant is a property every run must have (the S-CSCF's tables are
// consistent once it drained; every registration ended), checked per
// variant. Skipped means it could not be checked (a run cut by its
// deadline or an interrupt has work in flight by design).
type Invariant struct {
	Variant string `json:"variant"`
	Name    string `json:"name"`
	Passed  bool   `json:"passed"`
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Failed lists the expectations and invariants that did not hold.
func (s *Summary) Failed() []string {
	var out []string
	for _, v := range s.Expectations {
		if !v.Passed {
			out = append(out, v.String())
		}
	}
	for _, inv := range s.Invariants {
		if !inv.Passed && !inv.Skipped {
			out = append(out, fmt.Sprintf("%s: invariant %s: %s", inv.Variant, inv.Name, inv.Detail))
		}
	}
	return out
}

// JUnit XML (the schema Jenkins, GitLab and GitHub test reporters read):
// one suite per run, one test case per expectation and variant, and one
// per invariant and variant.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Skipped int          `xml:"skipped,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name    string      `xml:"name,attr"`
	Tests   int         `xml:"tests,attr"`
	Fails   int         `xml:"failures,attr"`
	Skipped int         `xml:"skipped,attr"`
	Cases   []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the run's verdicts as JUnit XML.
func (s *Summary) WriteJUnit(w io.Writer) error {
	exp := junitSuite{Name: "regstorm." + s.Profile + ".expectations"}
	for _, v := range s.Expectations {
		c := junitCase{Name: fmt.Sprintf("%s %s %g", v.Metric, v.Op, v.Required), Classname: "regstorm." + s.Profile + "." + v.Variant}
		if v.Measured != nil {
			c.SystemOut = "measured " + strconv.FormatFloat(*v.Measured, 'g', -1, 64)
		}
		if !v.Passed {
			c.Failure = &junitMessage{Message: v.String(), Type: "expectation"}
			exp.Fails++
		}
		exp.Cases = append(exp.Cases, c)
	}
	exp.Tests = len(exp.Cases)
	inv := junitSuite{Name: "regstorm." + s.Profile + ".invariants"}
	for _, i := range s.Invariants {
		c := junitCase{Name: i.Name, Classname: "regstorm." + s.Profile + "." + i.Variant}
		switch {
		case i.Skipped:
			c.Skipped = &junitMessage{Message: i.Detail}
			inv.Skipped++
		case !i.Passed:
			c.Failure = &junitMessage{Message: i.Detail, Type: "invariant"}
			inv.Fails++
		}
		inv.Cases = append(inv.Cases, c)
	}
	inv.Tests = len(inv.Cases)
	all := junitSuites{Name: "regstorm " + s.Profile, Suites: []junitSuite{exp, inv}}
	for _, st := range all.Suites {
		all.Tests += st.Tests
		all.Fails += st.Fails
		all.Skipped += st.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
