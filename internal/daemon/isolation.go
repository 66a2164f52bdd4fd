package daemon

import (
	"fmt"

	"github.com/updraft/updraft/internal/sandbox"
)

// isolationLimits says in one line what the isolation in use does not
// protect, for the start-up banner and log; "" at full isolation. Basic
// isolation keeps functions apart only by process group: every function
// is hostile code as far as the server is concerned, and whoever runs it
// should know what such code can reach.
func isolationLimits(s sandbox.Status, forcedBasic bool) string {
	if s.Level == sandbox.LevelFull {
		return ""
	}
	remedy := "drop --isolation basic (needs root and writable cgroups) for full isolation"
	if !forcedBasic {
		remedy = "run as root with writable cgroups for full isolation"
		if s.Reason != "" {
			remedy += " (here: " + s.Reason + ")"
		}
	}
	return fmt.Sprintf("isolation basic: functions run as the server's user (uid %d) and share its network, "+
		"file system and processes: they can read the data dir and its credentials, and memory is enforced "+
		"only by polling; %s", s.RunAsUID, remedy)
}
