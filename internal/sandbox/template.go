//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Runtime templates (see the package documentation, "Runtime templates")
// pre-start a managed runtime inside pre-started sandboxes, so that a
// cold start pays neither the init's re-execution nor the interpreter's
// start-up.

// TemplateFDEnv is the environment variable that tells a template's
// runtime (its "stem") the descriptor of its assignment socket. The
// variable is part of the stem's start-up environment only; the
// assignment replaces the whole environment.
const TemplateFDEnv = "UPDRAFT_TEMPLATE_FD"

// templateFD is that descriptor in the stem.
const templateFD = 3

// Stem protocol messages, one SOCK_SEQPACKET packet each.
const (
	// stemReady is what the stem sends once it is ready for its
	// assignment.
	stemReady = "ready"
	// maxAssignment bounds the assignment packet.
	maxAssignment = 1 << 20
)

// stemAssignment is the packet that hands a stem its function, with its
// stdout and stderr attached (SCM_RIGHTS, in that order).
type stemAssignment struct {
	// Env is the function's complete environment.
	Env []string `json:"env"`
}

// Template is a runtime kept started inside pre-started full-mode
// sandboxes. Its Main is started as uid 65534 with every restriction of
// a command (no_new_privs, no capabilities, the seccomp filter) once the
// sandbox's root is final, with Main.Env plus [TemplateFDEnv]; it is then
// expected to prepare itself, send "ready" on that descriptor (a
// SOCK_SEQPACKET unix socket) and wait for one packet: a JSON object whose
// "env" is its function's environment, with the function's stdout and
// stderr attached. By then the sandbox's code, layers and /tmp are
// mounted, its cgroup, CPU set and hostname are its function's, and the
// host's root is gone.
type Template struct {
	// Name identifies the template; a [Spec] names it in Spec.Template.
	Name string
	// Main is the runtime command; Stdout and Stderr are ignored (the
	// stem's output goes to the server's log until its assignment).
	Main Command
	// RuntimeDir is the host directory shown at /var/runtime from the
	// start; a Spec run by the template must have the same RuntimeDir.
	RuntimeDir string
	// OwnOutput is for runtimes that cannot take their output
	// descriptors on assignment (Node.js has no dup2): each zygote then
	// has an output pipe of its own, the stem's stdout and stderr from
	// its start, whose read end [Process.Output] hands to the caller; a
	// Spec with Extras is never run by such a template (they would write
	// elsewhere), and Main's Stdout and Stderr are unused.
	OwnOutput bool
}

// stemEnv is the stem's start-up environment.
func (t *Template) stemEnv() []string {
	env := make([]string, 0, len(t.Main.Env)+1)
	env = append(env, t.Main.Env...)
	return append(env, TemplateFDEnv+"="+strconv.Itoa(templateFD))
}

// fits reports whether t can run s: the same runtime command and runtime
// directory. The environment is the caller's to judge (Spec.Template).
func (t *Template) fits(s *Spec) bool {
	return t.Name == s.Template && s.RuntimeDir == t.RuntimeDir && s.Main.Path == t.Main.Path && slices.Equal(s.Main.Args, t.Main.Args)
}

// ErrNoTemplates is returned by [Manager.StartTemplate] where runtime
// templates cannot be used: basic isolation, or no pre-started sandboxes.
var ErrNoTemplates = errors.New("sandbox: runtime templates need full isolation and pre-started sandboxes")

// StartTemplate starts keeping pre-started sandboxes with t's runtime
// waiting in them (as many as [Config.Zygotes]). A later [Spec] whose
// Template is t.Name and that t fits then takes one of them when one is
// ready, and otherwise starts as without a template. A name already
// started is left as it is. It fails with [ErrNoTemplates] where
// templates cannot be used.
func (m *Manager) StartTemplate(t Template) error {
	if err := m.TemplatesAvailable(); err != nil {
		return err
	}
	if t.Name == "" || t.Main.Path == "" {
		return fmt.Errorf("%w: a template needs a name and a command", ErrInvalidSpec)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if _, ok := m.templates[t.Name]; ok {
		return nil
	}
	t.Main.Args = slices.Clone(t.Main.Args)
	t.Main.Env = slices.Clone(t.Main.Env)
	t.Main.Stdout, t.Main.Stderr = nil, nil
	opts := m.zygoteOptions(DefaultTmpSizeMB)
	opts.template = &t
	if m.templates == nil {
		m.templates = map[string]*zygotePool{}
	}
	m.templates[t.Name] = newZygotePool(m.zygotes.size, m.cgroups, opts, m.logger.With("template", t.Name))
	m.logger.Info("sandbox: runtime template started", "template", t.Name, "command", t.Main.Path, "prestarted", m.zygotes.size)
	return nil
}

// TemplatesAvailable returns nil where runtime templates can be used, and
// otherwise [ErrNoTemplates] saying what is missing.
func (m *Manager) TemplatesAvailable() error {
	switch {
	case m.status.Level != LevelFull:
		return fmt.Errorf("%w: isolation is %s", ErrNoTemplates, m.status.Level)
	case m.zygotes == nil:
		return fmt.Errorf("%w: no sandboxes are pre-started (zygotes 0)", ErrNoTemplates)
	}
	return nil
}

// templatePool returns the pool of the template that can run s, or nil.
func (m *Manager) templatePool(s *Spec) *zygotePool {
	if s.Template == "" {
		return nil
	}
	m.mu.Lock()
	tp := m.templates[s.Template]
	m.mu.Unlock()
	if tp == nil || !tp.opts.template.fits(s) || (tp.opts.template.OwnOutput && len(s.Extras) > 0) {
		return nil
	}
	return tp
}

// TemplateReady reports how many sandboxes of the template name are
// ready; for tests and diagnostics.
func (m *Manager) TemplateReady(name string) int {
	m.mu.Lock()
	tp := m.templates[name]
	m.mu.Unlock()
	if tp == nil {
		return 0
	}
	return tp.readyCount()
}
