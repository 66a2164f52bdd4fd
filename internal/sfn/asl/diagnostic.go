package asl

import "strings"

// Diagnostic codes, as ValidateStateMachineDefinition reports them.
const (
	CodeSchema        = "SCHEMA_VALIDATION_FAILED"
	CodeMissingTarget = "MISSING_TRANSITION_TARGET"
	CodeInvalidJSON   = "INVALID_JSON_DESCRIPTION"
	CodeNoTerminal    = "NO_TERMINAL_STATE"
)

// Diagnostic is one problem in a definition.
type Diagnostic struct {
	// Code is one of the Code* constants.
	Code string
	// Message says what is wrong, without the code or location.
	Message string
	// Location is a JSON pointer into the definition, e.g. /States/A/Next.
	Location string
}

// String renders the diagnostic as InvalidDefinition's message does:
// "CODE: message at /location".
func (d Diagnostic) String() string {
	s := d.Code + ": " + d.Message
	if d.Location != "" {
		s += " at " + d.Location
	}
	return s
}

// DefinitionError is an invalid definition: the diagnostics behind
// Step Functions' InvalidDefinition.
type DefinitionError struct {
	Diagnostics []Diagnostic
}

// Error is InvalidDefinition's message: "Invalid State Machine
// Definition: 'D1, D2'".
func (e *DefinitionError) Error() string {
	parts := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		parts[i] = d.String()
	}
	return "Invalid State Machine Definition: '" + strings.Join(parts, ", ") + "'"
}
