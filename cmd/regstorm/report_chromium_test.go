package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// chromium returns the headless Chromium binary, or skips the test (fails
// it when REGSTORM_REQUIRE_CHROMIUM is set, as in CI).
func chromium(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("REGSTORM_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium not installed and REGSTORM_REQUIRE_CHROMIUM is set")
		}
		t.Skip("chromium not installed (Debian package chromium)")
	}
	return bin
}

// pageCheck is what a report page says about itself once loaded (its
// self-check script sets these attributes on <body>).
type pageCheck struct {
	Images, Scripts, Charts  string
	Errors, Network, TooWide []string
	DOM                      string
}

// chromiumArgs open a page with no network: every host name fails to
// resolve, so a request for anything but the page's own files fails (and
// the page lists every resource it fetched).
func chromiumArgs(profile string, width, height int) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
		"--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
		fmt.Sprintf("--window-size=%d,%d", width, height), "--virtual-time-budget=5000"}
}

// openPage loads an index.html in headless Chromium and returns its
// self-check; it saves a screenshot of the page as shot.
func openPage(t *testing.T, bin, page, shot string) pageCheck {
	t.Helper()
	pc := loadPage(t, bin, page, 1280)
	// The screenshot: the whole page at 1280 px (a tall window).
	height := 1200
	if m := regexp.MustCompile(`data-page-height="(\d+)"`).FindStringSubmatch(pc.DOM); m != nil {
		fmt.Sscan(m[1], &height)
		height = min(max(height, 900), 16000)
	}
	shotCmd := exec.Command(bin, append(chromiumArgs(t.TempDir(), 1280, height), "--screenshot="+shot, "file://"+page)...)
	if b, err := shotCmd.CombinedOutput(); err != nil {
		t.Errorf("screenshot of %s: %v\n%s", page, err, b)
	} else if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("screenshot of %s not written: %v", page, err)
	}
	return pc
}

// loadPage loads a page in a window width px wide and returns its
// self-check.
func loadPage(t *testing.T, bin, page string, width int) pageCheck {
	t.Helper()
	profile := t.TempDir()
	cmd := exec.Command(bin, append(chromiumArgs(profile, width, 900), "--dump-dom", "file://"+page)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", page, err, stderr.String())
	}
	dom := string(out)
	attr := func(name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(dom)
		if m == nil {
			return ""
		}
		return strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(m[1])
	}
	list := func(name string) []string {
		var l []string
		if err := json.Unmarshal([]byte(attr(name)), &l); err != nil {
			t.Errorf("%s: %s is %q: %v", page, name, attr(name), err)
		}
		return l
	}
	pc := pageCheck{Images: attr("data-images-loaded"), Scripts: attr("data-scripts-ok"), Charts: attr("data-charts"),
		Errors: list("data-errors"), Network: list("data-network"), TooWide: list("data-too-wide"), DOM: dom}
	// Uncaught errors and console errors Chromium logs, besides those the
	// page caught.
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE(") && (strings.Contains(l, "Uncaught") || strings.Contains(l, "Error")) {
			pc.Errors = append(pc.Errors, l)
		}
	}
	return pc
}

// checkPage asserts what every report page must do: load every image and
// the charting script, show the interactive charts when it has a time
// series, log no error, fetch nothing from the network, and fit the page.
func checkPage(t *testing.T, name string, pc pageCheck, charts bool) {
	t.Helper()
	m := regexp.MustCompile(`^(\d+)/(\d+)$`).FindStringSubmatch(pc.Images)
	if m == nil || m[1] != m[2] || m[2] == "0" {
		t.Errorf("%s: images loaded %q", name, pc.Images)
	}
	if pc.Scripts != "yes" {
		t.Errorf("%s: the charting script did not load (%q)", name, pc.Scripts)
	}
	if charts && (pc.Charts == "" || pc.Charts == "0") {
		t.Errorf("%s: no interactive chart drawn (%q)", name, pc.Charts)
	}
	if len(pc.Errors) > 0 {
		t.Errorf("%s: console errors: %q", name, pc.Errors)
	}
	if len(pc.Network) > 0 {
		t.Errorf("%s: network requests: %q", name, pc.Network)
	}
	if len(pc.TooWide) > 0 {
		t.Errorf("%s: elements wider than the page: %q", name, pc.TooWide)
	}
}

// screenshotDir is where the report tests leave their screenshots:
// $REGSTORM_SCREENSHOTS, or a directory under the system's temporary one
// (the test logs it).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("REGSTORM_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "regstorm-report-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Every built-in profile's report (at a few thousand UEs), a compare
// report and a capacity report open in headless Chromium with everything
// loaded, no console error, no network request and nothing wider than the
// page; screenshots are saved.
func TestReportsInChromium(t *testing.T) {
	bin := chromium(t)
	shots := screenshotDir(t)
	t.Logf("screenshots in %s", shots)
	code, list, _ := runCLI(t, "profiles")
	if code != 0 {
		t.Fatal("regstorm profiles failed")
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	if len(names) < 4 {
		t.Fatalf("built-in profiles: %q", names)
	}
	dirs := map[string]string{}
	for _, name := range names {
		dir := filepath.Join(t.TempDir(), name)
		if code, _, errs := runCLI(t, "run", name, "--set", "ues=3000", "--out", dir); code != exitOK && code != exitExpect {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		dirs[name] = dir
		pc := openPage(t, bin, filepath.Join(dir, "index.html"), filepath.Join(shots, name+".png"))
		checkPage(t, name, pc, true)
		for _, want := range []string{"Summary", "route executed", "Profile as run", "Invariants"} {
			if !strings.Contains(pc.DOM, want) {
				t.Errorf("%s: the page lacks %q", name, want)
			}
		}
	}
	// On a narrow window (a phone, a side panel) the grid is one column
	// and still nothing is wider than the page.
	checkPage(t, "kamailio-4205 at 600 px", loadPage(t, bin, filepath.Join(dirs["kamailio-4205"], "index.html"), 600), true)
	// compare: the 4205 profile against itself with another seed.
	b := filepath.Join(t.TempDir(), "b")
	if code, _, errs := runCLI(t, "run", "kamailio-4205", "--set", "ues=3000", "--seed", "99", "--out", b); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	cmp := t.TempDir()
	if code, _, errs := runCLI(t, "compare", dirs["kamailio-4205"], b, "--out", cmp); code != exitOK {
		t.Fatalf("compare: exit %d: %s", code, errs)
	}
	pc := openPage(t, bin, filepath.Join(cmp, "index.html"), filepath.Join(shots, "compare.png"))
	checkPage(t, "compare", pc, true)
	for _, want := range []string{"Metrics that changed", `class="better"`, `class="worse"`, "Both runs", "A: kamailio-5.6"} {
		if !strings.Contains(pc.DOM, want) {
			t.Errorf("compare: the page lacks %q", want)
		}
	}
	// capacity.
	capDir := t.TempDir()
	if code, _, errs := runCLI(t, "capacity", "hss-overload", "--from", "1000", "--step", "1000", "--steps", "4", "--duration", "2s",
		"--out", capDir); code != exitOK {
		t.Fatalf("capacity: exit %d: %s", code, errs)
	}
	pc = openPage(t, bin, filepath.Join(capDir, "index.html"), filepath.Join(shots, "capacity.png"))
	checkPage(t, "capacity", pc, false)
	if !strings.Contains(pc.DOM, "design objective capacity") {
		t.Error("capacity: the page does not name the design objective capacity")
	}
}
