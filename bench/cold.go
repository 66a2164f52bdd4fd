package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/updraft/updraft/bench/internal/benchzip"
	"github.com/updraft/updraft/internal/runtimes"
)

// coldKind is one runtime whose cold start the bench measures beside the
// least the same work costs without updraft.
type coldKind struct {
	// label names the row; floorNote says what the floor is.
	label, floorNote string
	// prefix starts the names of the fresh functions.
	prefix string
	fn     fnSpec
	// floor runs the reference once and returns its time.
	floor func() (time.Duration, error)
	// skip, when set, says why this runtime cannot be measured here.
	skip string

	s    series
	errs errCount
}

// managedKind is a cold start of a trivial handler of runtime beside the
// bare interpreter updraft runs it with: the path comes from
// internal/runtimes itself, resolved as the server resolves it (same
// PATH, same rules), and runs args in an empty environment.
func managedKind(work, label, runtime, prefix string, fn fnSpec, args ...string) *coldKind {
	k := &coldKind{label: label, prefix: prefix, fn: fn}
	rt, err := runtimes.New(filepath.Join(work, "runtimes-probe"))
	if err != nil {
		k.skip = err.Error()
		return k
	}
	l, err := rt.Launch(runtime, runtimes.Layout{RuntimeRoot: "/var/runtime", TaskRoot: "/var/task", MemoryMB: 128})
	if err != nil {
		k.skip = err.Error()
		return k
	}
	version := ""
	if out, err := exec.Command(l.Path, "--version").CombinedOutput(); err == nil {
		version = " (" + strings.TrimSpace(string(out)) + ")"
	}
	k.floorNote = fmt.Sprintf("env -i %s %s%s: exec → exit, the interpreter updraft runs %s functions with", l.Path, strings.Join(args, " "), version, runtime)
	k.floor = func() (time.Duration, error) { return bareInterpreter(l.Path, args...) }
	return k
}

// coldKinds are the runtimes the cold-start phase measures: the Go echo
// function against its bootstrap exec'd directly, and trivial Python and
// Node handlers against their bare interpreters.
func coldKinds(work string, echo fnSpec, bare *bareBootstrap) ([]*coldKind, error) {
	pyZip, err := zipFiles(map[string]string{"index.py": "def handler(event, context):\n    return event\n"})
	if err != nil {
		return nil, err
	}
	nodeZip, err := zipFiles(map[string]string{"index.mjs": "export const handler = async (event) => event;\n"})
	if err != nil {
		return nil, err
	}
	goKind := &coldKind{
		label: "Go cold start p50 vs bare bootstrap", prefix: "cold-go", fn: echo, floor: bare.start,
		floorNote: "the echo bootstrap exec'd directly, no sandbox, against a stub Runtime API: exec → first response",
	}
	return []*coldKind{
		goKind,
		managedKind(work, "Python cold start p50 vs python3 -c pass", "python3.12", "cold-py",
			fnSpec{runtime: "python3.12", handler: "index.handler", zip: pyZip}, "-c", "pass"),
		managedKind(work, "Node cold start p50 vs node -e 0", "nodejs20.x", "cold-node",
			fnSpec{runtime: "nodejs20.x", handler: "index.handler", zip: nodeZip}, "-e", "0"),
	}, nil
}

// coldRound measures n cold starts of k and n runs of its floor,
// alternated one by one, and records the round's p50s. A cold start is
// the first invoke of a freshly created function, timed at the client;
// the functions are deleted after the round and the bench waits until
// their environments are gone, so the next round starts as this one did.
func coldRound(c *http.Client, base string, k *coldKind, round, n int) {
	var floor, cold []time.Duration
	envsBefore, err := environments(c, base)
	if err != nil {
		k.errs.add(err)
		return
	}
	var created []string
	for i := range n {
		if d, err := k.floor(); err != nil {
			k.errs.add(err)
		} else {
			floor = append(floor, d)
		}
		name := fmt.Sprintf("%s-%d-%d", k.prefix, round, i)
		if err := createFunction(c, base, name, k.fn); err != nil {
			k.errs.add(err)
			continue
		}
		created = append(created, name)
		start := time.Now()
		if err := post(c, base+"/2015-03-31/functions/"+name+"/invocations", []byte(`{"hello":"world"}`)); err != nil {
			k.errs.add(fmt.Errorf("cold invoke %s: %w", name, err))
			continue
		}
		cold = append(cold, time.Since(start))
	}
	for _, name := range created {
		if err := deleteFunction(c, base, name); err != nil {
			k.errs.add(err)
		}
	}
	if err := waitEnvironments(c, base, envsBefore, 30*time.Second); err != nil {
		k.errs.add(err)
	}
	if len(floor) > 0 && len(cold) > 0 {
		f, _ := percentiles(floor)
		u, _ := percentiles(cold)
		k.s.add(float64(f), float64(u))
	}
}

// environments is the number of execution environments the server holds,
// from /healthz.
func environments(c *http.Client, base string) (int, error) {
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		return 0, fmt.Errorf("healthz: %w", err)
	}
	defer resp.Body.Close()
	var doc struct {
		Pool struct {
			Environments int `json:"environments"`
		} `json:"pool"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return 0, fmt.Errorf("healthz: %w", err)
	}
	return doc.Pool.Environments, nil
}

// waitEnvironments waits until the server holds at most n environments.
func waitEnvironments(c *http.Client, base string, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		got, err := environments(c, base)
		if err != nil {
			return err
		}
		if got <= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d environments %s after deleting the round's functions, want at most %d", got, limit, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// zipFiles zips text files (mode 0644) for a function's code.
func zipFiles(files map[string]string) ([]byte, error) {
	var entries []benchzip.Entry
	for name, text := range files {
		entries = append(entries, benchzip.Entry{Name: name, Data: []byte(text), Mode: 0o644})
	}
	return benchzip.Zip(entries...)
}
