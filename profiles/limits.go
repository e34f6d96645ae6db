package profiles

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/regstorm/regstorm/hss"
)

// The limits a profile is checked against, each in this one place. A
// profile asking beyond them is refused with its file, line and key, before
// anything is allocated for the run, instead of running out of memory or
// silently computing nonsense.
const (
	// MaxUEs bounds ues whatever the memory (a run's UE indices are
	// uint32; a billion UEs need about 3 TiB).
	MaxUEs = 1_000_000_000
	// MaxVariants bounds the variants a profile compares: each is a whole
	// simulated system, a column of the table and a curve in every plot.
	MaxVariants = 64
	// MinRate is the lowest arrival rate per second (arrival.rate, a
	// ramp's from and to, a staircase step's rate). Below it the
	// computed arrival times leave what a virtual clock holds, or a
	// typo (1e-12 for 1e12) passes for a very slow test.
	MinRate = 0.001
	// MaxVirtualTime bounds every duration in a profile and the time of
	// the last arrival: 100 years, well inside time.Duration's 292, so
	// sums of them (start + window, at + for, a timer on top) cannot
	// overflow.
	MaxVirtualTime = 36525 * 24 * time.Hour
	// MaxProfileBytes caps a profile file (the built-ins are 2 KB).
	MaxProfileBytes = 4 << 20
	// MaxLatencyMultiplier bounds an HSS latency fault's multiplier (the
	// HSS's own bound, which its Validate checks).
	MaxLatencyMultiplier = hss.MaxLatencyMultiplier
)

// The memory model behind the ues and variants check, measured as peak RSS
// (`/usr/bin/time -v regstorm run P --no-plots --set ues=N`, Go 1.26,
// linux/amd64) on 2 cores:
//
//	storm-1m (1 variant, 60 s window)        200k UEs 0.24 GB, 1M 1.44 GB: 1.5 KB/UE
//	storm-1m, window 600 s / 1 s             1M 0.70 GB / 1.69 GB
//	poisson over 10 s, 1 variant             100k 0.29 GB, 1M 2.86 GB: 2.8 KB/UE
//	the same, 2 variants side by side        100k 0.62 GB, 1M 6.42 GB: 3.2 KB/UE each
//	the same, 2 variants one after another   1M 3.38 GB (--threads 1)
//	4 variants one after another, 500k UEs   2.44 GB against 1.40 GB for one:
//	                                         0.7 KB/UE kept by each finished variant
//	1M UEs within 1 s, unlimited capacity    4.02 GB (every UE in flight at once)
//	ues=1: 1 variant 21.6 MB, 64 variants 171 MB: 2.4 MB per variant
//
// A UE's share covers the fleet's state, the S-CSCF's usrloc, auth and tm
// state, the HSS's subscriber state, the collector and the event queue at
// the run's peak; a subscriber file adds its table (measured 255 B a row,
// TestTableBytesPerRow in internal/subscriber, rounded up for map growth).
const (
	memBase        = 32 << 20 // the process before any variant
	memPerVariant  = 3 << 20  // a variant's fixed structures
	memPerUE       = 3 << 10  // a UE of a running variant, at the peak
	memPerDoneUE   = 768      // a UE of a variant that has finished
	memPerTableRow = 320      // a subscriber row loaded from a file
	// memUnknown is assumed where the machine's memory cannot be read.
	memUnknown = 128 << 30
)

// memoryNeed estimates the peak bytes of a run whose variants have these
// UE counts. Variants run side by side when there are at most procs of
// them (internal/scenario.Run: threads >= variants), else one after
// another, each finished one keeping its state for the summary.
func memoryNeed(ues []int64, procs int, table bool) float64 {
	perUE, perDone := float64(memPerUE), float64(memPerDoneUE)
	if table {
		perUE += memPerTableRow
		perDone += memPerTableRow
	}
	var sum, biggest float64
	for _, u := range ues {
		sum += float64(u)
		biggest = max(biggest, float64(u))
	}
	need := memBase + float64(len(ues))*memPerVariant
	if len(ues) <= procs {
		return need + sum*perUE
	}
	return need + biggest*perUE + (sum-biggest)*perDone
}

// machineMemory returns the bytes a run may use and a phrase saying so
// ("this machine has 23 GiB"); a variable so tests can set it.
var machineMemory = sync.OnceValues(readMachineMemory)

// readMachineMemory reads MemTotal from /proc/meminfo (proc(5)), lowered
// to the cgroup's memory limit when one is set (cgroup v2 memory.max, v1
// memory.limit_in_bytes). It compares against the total rather than what
// is available now, so the same profile is accepted or refused the same
// way whatever else the machine runs: a refusal means the run cannot fit.
func readMachineMemory() (uint64, string) {
	total := uint64(0)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64); err == nil {
					total = kb << 10
				}
				break
			}
		}
		f.Close()
	}
	if total == 0 {
		return memUnknown, fmt.Sprintf("this system's memory is unknown, assumed %s", gib(memUnknown))
	}
	if lim := cgroupLimit(); lim > 0 && lim < total {
		return lim, fmt.Sprintf("this process may use %s (its cgroup's memory limit)", gib(float64(lim)))
	}
	return total, fmt.Sprintf("this machine has %s", gib(float64(total)))
}

// cgroupLimit returns the memory limit of this process's cgroup, 0 if none
// can be read.
func cgroupLimit() uint64 {
	read := func(p string) uint64 {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0 // "max": no limit
		}
		return v
	}
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(l, "0::"); ok && !strings.Contains(rest, "..") {
				if v := read("/sys/fs/cgroup" + strings.TrimSuffix(rest, "/") + "/memory.max"); v > 0 {
					return v
				}
			}
		}
	}
	return read("/sys/fs/cgroup/memory/memory.limit_in_bytes")
}

// gib writes a byte count as the limits are stated.
func gib(b float64) string {
	switch g := b / (1 << 30); {
	case g >= 10:
		return strconv.FormatFloat(math.Round(g), 'f', -1, 64) + " GiB"
	case g >= 1:
		return strconv.FormatFloat(g, 'f', 1, 64) + " GiB"
	}
	return strconv.FormatFloat(math.Ceil(b/(1<<20)), 'f', -1, 64) + " MiB"
}

// checkUEs checks ues against MaxUEs and, as if the run had one variant,
// against the machine's memory (the variants together are checked once
// they are known, checkVariantsMemory).
func (v *validator) checkUEs(p *Profile) bool {
	if p.UEs <= 0 {
		v.addf("ues", "must be a positive number of UEs, got %d", p.UEs)
		return false
	}
	have, machine := machineMemory()
	need := memoryNeed([]int64{p.UEs}, 1, p.Subscribers.File != "")
	if p.UEs > MaxUEs {
		v.addf("ues", "%d is more than the %d UEs a run may have (it would need about %s; %s)", p.UEs, int64(MaxUEs), gib(need), machine)
		return false
	}
	if need > float64(have) {
		v.addf("ues", "%d needs about %s; %s", p.UEs, gib(need), machine)
		return false
	}
	return true
}

// checkVariantsMemory checks the variants' UEs together against the
// machine's memory for a run on procs threads; ues[i] is variant i's (its
// set may change ues).
func (v *validator) checkVariantsMemory(p *Profile, ues []int64, procs int) {
	if len(ues) < 2 {
		return
	}
	have, machine := machineMemory()
	need := memoryNeed(ues, procs, p.Subscribers.File != "")
	if need <= float64(have) {
		return
	}
	same, sum := true, int64(0)
	for _, u := range ues {
		sum += u
		same = same && u == ues[0]
	}
	each := fmt.Sprintf("%d UEs each", ues[0])
	if !same {
		each = fmt.Sprintf("%d UEs in all", sum)
	}
	how := "side by side"
	if len(ues) > procs {
		how = fmt.Sprintf("one after another (more variants than the %d cores)", procs)
	}
	v.addf("variants", "%d variants of %s, run %s, need about %s; %s", len(ues), each, how, gib(need), machine)
}

// CheckMemory checks the variants together against the machine's memory
// for a run on threads threads (internal/scenario.Options.Threads; 0 for
// every core), which places variants side by side when there are at least
// as many threads as variants. Parse checks it for 0; a command given
// --threads can check again. The error is an *Error naming the profile's
// variants line.
func (p *Profile) CheckMemory(threads int) error {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	v := validator{where: p.where, root: &yaml.Node{}}
	if p.src != nil {
		if err := yaml.Unmarshal(p.src, v.root); err != nil {
			return fmt.Errorf("profiles: re-reading %s: %w", p.where, err)
		}
	}
	ues := p.variantUEs
	if len(ues) != len(p.Variants) {
		ues = make([]int64, len(p.Variants))
		for i := range ues {
			ues[i] = p.UEs
		}
	}
	v.checkVariantsMemory(p, ues, threads)
	if len(v.problems) > 0 {
		return &Error{v.problems}
	}
	return nil
}

// checkRates refuses arrival rates below MinRate (or not finite) and a
// load whose last arrival would come after MaxVirtualTime.
func (v *validator) checkRates(p *Profile) {
	a := &p.Arrival
	rate := func(x float64) bool { return x >= MinRate && !math.IsInf(x, 0) }
	var key string
	switch a.Shape {
	case "constant":
		if !rate(a.Rate) {
			v.addf("arrival.rate", "a constant rate needs rate >= %g per second, got %g", MinRate, a.Rate)
			return
		}
		key = "arrival.rate"
	case "ramp":
		ok := true
		if !(a.From == 0 || rate(a.From)) {
			v.addf("arrival.from", "a ramp starts at from = 0 or from >= %g per second, got %g", MinRate, a.From)
			ok = false
		}
		if !rate(a.To) {
			v.addf("arrival.to", "a ramp needs to >= %g per second, got %g", MinRate, a.To)
			ok = false
		}
		if a.Window <= 0 {
			v.addf("arrival.window", "a ramp needs a window > 0 to rise over")
			ok = false
		}
		if !ok {
			return
		}
		key = "arrival.to"
	case "staircase":
		if len(a.Steps) == 0 {
			v.addf("arrival.steps", "a staircase needs steps: [{rate, for}]")
			return
		}
		ok := true
		for i, st := range a.Steps {
			k := "arrival.steps." + strconv.Itoa(i)
			if !rate(st.Rate) {
				v.addf(k+".rate", "each step needs rate >= %g per second, got %g", MinRate, st.Rate)
				ok = false
			}
			if st.For <= 0 {
				v.addf(k+".for", "each step needs for > 0")
				ok = false
			}
		}
		if !ok {
			return
		}
		key = "arrival.steps." + strconv.Itoa(len(a.Steps)-1) + ".rate"
	default:
		return
	}
	if p.UEs <= 0 || a.Start < 0 || a.Start.D() > MaxVirtualTime {
		return // reported on its own
	}
	if last := a.lastArrival(p.UEs); !(last <= float64(MaxVirtualTime)) {
		v.addf(key, "the last of %d UEs would arrive after %s, beyond the %s a run's virtual clock may reach; raise the rate",
			p.UEs, longTime(last), longTime(float64(MaxVirtualTime)))
	}
}

// lastArrival is the time of the n-th arrival in nanoseconds, computed as
// Pacer does but in float64, so that it can be compared before it is
// converted.
func (a *Arrival) lastArrival(n int64) float64 {
	k, start := float64(n-1), float64(a.Start.D())
	switch a.Shape {
	case "constant":
		return start + k*1e9/a.Rate
	case "ramp":
		return start + rampTime(k, a.From, a.To, float64(a.Window.D())/1e9)*1e9
	case "staircase":
		return start + stairTime(k, a.Steps)*1e9
	}
	return start + float64(a.Window.D())
}

// longTime writes nanoseconds as years or days when they are that long.
func longTime(ns float64) string {
	const day = 24 * 3600e9
	switch {
	case ns >= 365.25*day:
		return strconv.FormatFloat(ns/(365.25*day), 'g', 4, 64) + " years"
	case ns >= day:
		return strconv.FormatFloat(math.Round(ns/day), 'f', -1, 64) + " days"
	}
	return time.Duration(ns).String()
}

// durationType is the type of every duration key.
var durationType = reflect.TypeFor[Duration]()

// checkDurations refuses any duration key above MaxVirtualTime, walking the
// profile by its YAML keys (distribution parameters, fault phases and
// steps included).
func (v *validator) checkDurations(key string, rv reflect.Value) {
	switch rv.Kind() {
	case reflect.Struct:
		t := rv.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			if key != "" {
				name = key + "." + name
			}
			v.checkDurations(name, rv.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < rv.Len(); i++ {
			v.checkDurations(key+"."+strconv.Itoa(i), rv.Index(i))
		}
	case reflect.Int64:
		if rv.Type() == durationType && rv.Int() > int64(MaxVirtualTime) {
			v.addf(key, "%v is longer than the %s a run's virtual clock may reach", time.Duration(rv.Int()), longTime(float64(MaxVirtualTime)))
		}
	}
}

// virtual converts nanoseconds computed in float64 to a time, saturating
// where the value would not fit (a NaN too) instead of wrapping: the
// validated profiles never get there, but the conversion of an
// out-of-range float is implementation-defined in Go (on amd64 it gives
// math.MinInt64, every UE at time 0).
func virtual(ns float64) time.Duration {
	if !(ns < float64(math.MaxInt64)) {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
