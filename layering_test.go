package updraft_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// forbidden lists import edges the architecture does not allow: the
// layers of STYLE.md §2 (cmd → daemon → api → invoke → pool → sandbox,
// runtimeapi, fnlog → registry → store; config, lambdaapi, lambdaerr
// leaves). A package may not import anything listed for it.
var forbidden = map[string][]string{
	"internal/sandbox":    {"internal/runtimeapi", "internal/pool", "internal/registry", "internal/store", "internal/api", "internal/fnlog"},
	"internal/runtimeapi": {"internal/sandbox", "internal/pool", "internal/registry", "internal/store", "internal/api"},
	"internal/fnlog":      {"internal/pool", "internal/registry", "internal/api", "internal/sandbox"},
	"internal/registry":   {"internal/pool", "internal/invoke", "internal/api", "internal/sandbox", "internal/runtimeapi"},
	"internal/store":      {"internal/registry", "internal/pool", "internal/api"},
	"internal/pool":       {"internal/invoke", "internal/api", "internal/daemon"},
	"internal/invoke":     {"internal/api", "internal/daemon"},
	"internal/queue":      {"internal/registry", "internal/pool", "internal/invoke", "internal/api", "internal/async", "internal/esm", "internal/daemon"},
	// Built-in streams are storage, like queues: below everything that
	// reads or serves them.
	"internal/stream": {"internal/registry", "internal/pool", "internal/invoke", "internal/api", "internal/async", "internal/esm", "internal/daemon", "internal/queue"},
	"internal/sqs": {"internal/registry", "internal/pool", "internal/invoke", "internal/api", "internal/async", "internal/esm",
		"internal/daemon", "internal/stream", "internal/sandbox", "internal/runtimeapi", "internal/iam", "internal/store"},
	"internal/async": {"internal/api", "internal/daemon", "internal/queue", "internal/esm"},
	// Event source mappings reach the invoke service through an interface
	// and are served by api; they know nothing of async invocation.
	"internal/esm": {"internal/api", "internal/daemon", "internal/async"},
	// Identities sit beside the registry: the store below, the API and
	// the invoke path above (they ask iam, never the other way round).
	"internal/iam": {"internal/registry", "internal/pool", "internal/invoke", "internal/api", "internal/async", "internal/esm",
		"internal/daemon", "internal/queue", "internal/stream", "internal/sandbox", "internal/runtimeapi", "internal/sts"},
	"internal/sts": {"internal/registry", "internal/pool", "internal/invoke", "internal/api", "internal/async", "internal/esm",
		"internal/daemon", "internal/queue", "internal/stream", "internal/sandbox", "internal/runtimeapi", "internal/store"},
	// Function policies sit beside the registry (which they read for
	// names and ARNs): the API routes to them, the authoriser reads them.
	"internal/fnpolicy": {"internal/pool", "internal/invoke", "internal/api", "internal/async", "internal/esm",
		"internal/daemon", "internal/queue", "internal/stream", "internal/sandbox", "internal/runtimeapi", "internal/iam/managed"},
	// The query protocol knows no service.
	"internal/awsquery":  {"internal/"},
	"internal/lambdaerr": {"internal/"},
	"internal/lambdaapi": {"internal/"},
	"internal/config":    {"internal/"},
	"internal/jsname":    {"internal/"},
	"internal/rawheader": {"internal/"},
	// Sample events are built from aws-lambda-go's types alone.
	"internal/sampleevents": {"internal/"},
	// Any package's tests may use testutil: it must import none of them.
	"internal/testutil": {"internal/"},
	// The policy language and the AWS managed policies are pure data and
	// logic that the IAM/STS API and request authorisation build on.
	"internal/iam/policy":  {"internal/"},
	"internal/iam/managed": {"internal/"},
	// Workflows reach functions through an interface and are served by
	// api; they know nothing of the other services' engines.
	"internal/sfn": {"internal/api", "internal/daemon", "internal/async", "internal/esm", "internal/queue", "internal/stream"},
	// The States Language is pure logic the workflow service builds on.
	"internal/sfn/asl": {"internal/"},
	// DynamoDB's data model and expression languages are pure: values
	// and expressions only, no store, no HTTP.
	"internal/dynamodb/attr": {"internal/"},
	"internal/dynamodb/expr": {"internal/api", "internal/daemon", "internal/store", "internal/registry", "internal/esm", "internal/dynamodb/streams"},
}

// thirdParty lists, for the packages that are kept to a few outside
// modules, the only ones they may depend on (import path prefixes); the
// standard library is always allowed.
var thirdParty = map[string][]string{
	// The policy language is the standard library alone.
	"internal/iam/policy":    {},
	"internal/rawheader":     {},
	"internal/iam/managed":   {},
	"internal/dynamodb/attr": {},
	"internal/dynamodb/expr": {},
	"internal/sfn/asl":       {},
	// The sandbox talks to the kernel through x/sys alone, except for the
	// seccomp filter of the commands it starts: go-seccomp-bpf (pure Go,
	// as the binary is built without cgo, unlike libseccomp-golang)
	// assembles it from system call names and argument conditions, and
	// x/net/bpf is that library's BPF assembler; and the routes of a
	// sandbox's network namespace: vishvananda/netlink (with its netns
	// package) speaks rtnetlink instead of hand-built messages.
	"internal/sandbox": {"golang.org/x/sys/", "github.com/elastic/go-seccomp-bpf", "golang.org/x/net/bpf",
		"github.com/vishvananda/netlink", "github.com/vishvananda/netns"},
}

// neverImported may only be imported by the layer above them.
var neverImported = map[string]string{
	"internal/api":    "internal/daemon",
	"internal/daemon": "cmd/updraft",
}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/updraft/updraft/"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, mod)
		if allowed, ok := thirdParty[rel]; ok {
			for _, dep := range p.Deps {
				first, _, _ := strings.Cut(dep, "/")
				if !strings.Contains(first, ".") || strings.HasPrefix(dep, mod) {
					continue // the standard library, or this module (checked below)
				}
				if !slices.ContainsFunc(allowed, func(a string) bool { return strings.HasPrefix(dep, a) }) {
					t.Errorf("%s depends on %s, outside its allowed modules %v", rel, dep, allowed)
				}
			}
		}
		for _, dep := range p.Deps {
			if !strings.HasPrefix(dep, mod) {
				continue // the standard library has internal/ packages too
			}
			d := strings.TrimPrefix(dep, mod)
			for _, bad := range forbidden[rel] {
				if strings.HasPrefix(d, bad) && d != rel {
					t.Errorf("%s depends on %s, which the layering forbids", rel, d)
				}
			}
		}
		for _, imp := range p.Imports {
			d := strings.TrimPrefix(imp, mod)
			if allowed, ok := neverImported[d]; ok && rel != allowed && !strings.HasSuffix(rel, "_test") {
				t.Errorf("%s imports %s; only %s may", rel, d, allowed)
			}
		}
	}
}

// TestPackageDocs fails when a package has no package comment.
func TestPackageDocs(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{.Doc}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, doc, _ := strings.Cut(line, "\t")
		if strings.TrimSpace(doc) == "" {
			t.Errorf("package %s has no package doc comment", path)
		}
	}
}
