package sfn

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// validName checks a state machine or execution name as Step Functions
// does: 1 to 80 characters, none of whitespace, brackets, wildcards,
// the special characters " # % \ ^ | ~ ` $ & , ; : / or control
// characters (CreateStateMachine, "name").
func validName(n string) bool {
	if n == "" || len([]rune(n)) > 80 {
		return false
	}
	for _, r := range n {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}

// machineKey is the bucket key part of a state machine name.
func machineKey(name string) string { return hex.EncodeToString([]byte(name)) }

// executionKey is an execution's key: its machine's, then a digest of
// its name (subjects and keys allow few characters).
func executionKey(machine, name string) string {
	sum := sha256.Sum256([]byte(machine + "\x00" + name))
	return machineKey(machine) + "." + hex.EncodeToString(sum[:16])
}

// arnParts splits arn:aws:states:REGION:ACCOUNT:TYPE:NAME[:SUB].
func arnParts(arn string) (typ string, rest []string, ok bool) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "states" {
		return "", nil, false
	}
	return parts[5], parts[6:], true
}

func (s *Service) machineARN(name string) string {
	return "arn:aws:states:" + s.cfg.Region + ":" + s.cfg.AccountID + ":stateMachine:" + name
}

func (s *Service) executionARN(machine, name string) string {
	return "arn:aws:states:" + s.cfg.Region + ":" + s.cfg.AccountID + ":execution:" + machine + ":" + name
}

// machineName reads a state machine ARN.
func machineName(arn string) (string, *Error) {
	typ, rest, ok := arnParts(arn)
	if !ok || typ != "stateMachine" || len(rest) != 1 || !validName(rest[0]) {
		return "", errInvalidArn(arn)
	}
	return rest[0], nil
}

// executionName reads an execution ARN.
func executionName(arn string) (machine, name string, err *Error) {
	typ, rest, ok := arnParts(arn)
	if !ok || typ != "execution" || len(rest) != 2 || !validName(rest[0]) || !validName(rest[1]) {
		return "", "", errInvalidArn(arn)
	}
	return rest[0], rest[1], nil
}
