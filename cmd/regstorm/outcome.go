package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/regstorm/regstorm/report"
	"github.com/regstorm/regstorm/results"
)

// signalStop turns the first SIGINT or SIGTERM into a stop of the run and
// remembers which signal it was, for the exit status (128 + its number:
// 130, 143).
type signalStop struct {
	mu  sync.Mutex
	sig os.Signal
}

func (s *signalStop) watch(stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, sigterm)
	go func() {
		sig := <-ch
		s.mu.Lock()
		s.sig = sig
		s.mu.Unlock()
		stop()
	}()
}

func (s *signalStop) received() os.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig
}

// interruptedError ends a run a signal stopped (its partial results are
// written, with interrupted: true).
type interruptedError struct{ sig os.Signal }

func (e *interruptedError) Error() string {
	return fmt.Sprintf("stopped by %v; the results written are partial (interrupted: true)", e.sig)
}

func (e *interruptedError) code() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// verdict ends a run: an interrupted run exits 128+signal, one whose
// expectations or invariants failed exits 1, listing them.
func verdict(stdout io.Writer, sum *results.Summary, expectations int, stop *signalStop) error {
	if sig := stop.received(); sig != nil {
		return &interruptedError{sig}
	}
	if fails := sum.Failed(); len(fails) > 0 {
		return &expectationError{failures: fails}
	}
	if expectations > 0 {
		fmt.Fprintf(stdout, "all %d expectations met\n", expectations)
	}
	return nil
}

// writeRunDir writes a complete run directory aside and puts it in place
// in one step (results.Stage, Commit): a run killed while writing leaves
// the previous directory as it was.
func writeRunDir(dir string, sum *results.Summary, names []string, cols []*results.Collector, info, profile []byte, plots bool) error {
	tmp, err := results.Stage(dir)
	if err != nil {
		return err
	}
	if err := fillRunDir(tmp, sum, names, cols, info, profile, plots); err != nil {
		results.Discard(tmp)
		return err
	}
	return results.Commit(tmp, dir)
}

func fillRunDir(tmp string, sum *results.Summary, names []string, cols []*results.Collector, info, profile []byte, plots bool) error {
	if err := results.WriteRun(tmp, sum, names, cols); err != nil {
		return err
	}
	// The profile as run, every default filled in (regstorm profiles
	// show): compare tells when two runs' profiles differ.
	if err := os.WriteFile(filepath.Join(tmp, "profile.yaml"), profile, 0o644); err != nil {
		return fmt.Errorf("writing the profile: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "run-info.json"), info, 0o644); err != nil {
		return fmt.Errorf("writing run info: %w", err)
	}
	if plots {
		if _, _, err := report.Render(tmp); err != nil {
			return err
		}
	}
	return nil
}

// writeJUnit writes the verdicts as JUnit XML, through a temporary file
// renamed into place.
func writeJUnit(path string, sum *results.Summary) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	defer os.Remove(f.Name())
	if err := sum.WriteJUnit(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	return nil
}
