//go:build linux

package sandbox

import (
	"os"
	"strings"
	"testing"
	"time"
)

// stemScript is a minimal runtime template: it says ready, takes its
// assignment and reports what it sees.
const stemScript = `import json, os, socket
s = socket.socket(fileno=int(os.environ["UPDRAFT_TEMPLATE_FD"]))
s.send(b"ready")
msg, fds, _, _ = socket.recv_fds(s, 1 << 20, 2)
os.dup2(fds[0], 1)
os.dup2(fds[1], 2)
env = dict(kv.split("=", 1) for kv in json.loads(msg)["env"])
nnp = [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0]
print("greeting=%s uid=%d nnp=%s code=%s" % (env.get("GREETING"), os.getuid(), nnp, bool(os.listdir("/var/task"))), flush=True)
`

func TestRuntimeTemplateStem(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no " + python)
	}
	m := newManagerConfig(t, LevelFull, Config{Zygotes: 1})
	runtimeDir := t.TempDir()
	tmpl := Template{Name: "py", Main: Command{Path: python, Args: []string{"-c", stemScript}}, RuntimeDir: runtimeDir}
	if err := m.StartTemplate(tmpl); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for m.TemplateReady("py") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the template's runtime never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}

	s, out := newSpec(t, m)
	s.Main.Path, s.Main.Args, s.Main.Env = python, tmpl.Main.Args, []string{"GREETING=hello"}
	s.RuntimeDir, s.Template = runtimeDir, "py"
	p := start(t, m, s)
	waitDone(t, p, 10*time.Second)
	if !p.FromTemplate() {
		t.Error("FromTemplate = false for a spec the ready template fits")
	}
	if want := "greeting=hello uid=65534 nnp=1 code=True"; !strings.Contains(out.String(), want) {
		t.Errorf("output %q, want %q", out.String(), want)
	}

	// Another command is never run by the template.
	s2, _ := newSpec(t, m, "report")
	s2.RuntimeDir, s2.Template = runtimeDir, "py"
	p2 := start(t, m, s2)
	waitDone(t, p2, 10*time.Second)
	if p2.FromTemplate() {
		t.Error("a spec with another command was run by the template")
	}
}
