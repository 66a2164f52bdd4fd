package pool

import (
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/runtimes"
	"github.com/updraft/updraft/internal/sandbox"
)

// Runtime templates: a managed runtime's interpreter started ahead of
// need inside pre-started sandboxes (sandbox.Template), handed a
// function's environment on its cold start. The pool starts a template
// for a runtime command the first time a function needs it, and uses it
// for every function whose start-up variables (runtimes.StartupVariable)
// are the template's; any other function starts its runtime anew.

// templates remembers the runtime templates started; nil when they are
// off.
type templates struct {
	mu   sync.Mutex
	envs map[string][]string // the template's start-up environment by name; guarded by mu
	// off holds names the sandbox refused, so they are not asked again;
	// guarded by mu.
	off map[string]bool
}

// templateFor returns the name of a template that can run main, the
// command of a v environment with layout and spec's runtime directory,
// starting the template when it is new; "" when none can.
func (p *Pool) templateFor(v *registry.Version, launch *runtimes.Launch, layout sandbox.Layout, spec *sandbox.Spec) string {
	t := p.templates
	if t == nil || launch == nil || launch.Template == "" {
		return ""
	}
	t.mu.Lock()
	env, started := t.envs[launch.Template]
	refused := t.off[launch.Template]
	t.mu.Unlock()
	if refused {
		return ""
	}
	if !started && !t.admit(launch.Template) {
		return ""
	}
	if !started {
		// The start-up variables every function gets unless it sets
		// its own, and PATH to find the interpreter by.
		defaults := p.functionEnv(&registry.Version{FunctionName: "template", Version: "$LATEST", Runtime: v.Runtime, MemoryMB: v.MemoryMB}, layout, "", "", launch, nil)
		env = startupEnv(defaults)
		if path, ok := lookupEnv(defaults, "PATH"); ok {
			env = append(env, "PATH="+path)
		}
		err := p.deps.Sandbox.StartTemplate(sandbox.Template{
			Name:       launch.Template,
			Main:       sandbox.Command{Path: spec.Main.Path, Args: spec.Main.Args, Env: env},
			RuntimeDir: spec.RuntimeDir,
			OwnOutput:  launch.OwnOutput,
		})
		t.mu.Lock()
		if err != nil {
			t.off[launch.Template] = true
		} else if prev, ok := t.envs[launch.Template]; ok {
			env = prev // started concurrently: the sandbox kept the first
		} else {
			t.envs[launch.Template] = env
		}
		t.mu.Unlock()
		if err != nil {
			if !errors.Is(err, sandbox.ErrNoTemplates) {
				p.logger.Warn("runtime template not started; this runtime starts anew", "template", launch.Template, "err", err)
			}
			return ""
		}
	}
	if !slices.Equal(startupEnv(spec.Main.Env), startupEnv(env)) {
		return ""
	}
	return launch.Template
}

// maxTemplates bounds the runtime templates a pool starts: each keeps
// --zygotes idle runtimes (Python about 17 MB each, Node about 45 MB),
// and Node needs one per memory size. Runtimes past it start anew.
const maxTemplates = 4

// admit reports whether a template named name may be started: fewer than
// maxTemplates are; otherwise it is refused for good.
func (t *templates) admit(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.envs) < maxTemplates {
		return true
	}
	t.off[name] = true
	return false
}

// startupEnv is the sorted subset of env that a runtime reads at
// start-up only.
func startupEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if runtimes.StartupVariable(name) {
			out = append(out, kv)
		}
	}
	slices.Sort(out)
	return out
}

// lookupEnv returns the value of name in env.
func lookupEnv(env []string, name string) (string, bool) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}
