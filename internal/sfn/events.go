package sfn

import (
	"encoding/json"
	"strings"
	"time"
)

// event is one history event, in the shape GetExecutionHistory returns
// (the HistoryEvent structure of the Step Functions API reference): the
// details sit under a member named after the type, e.g.
// taskScheduledEventDetails.
type event struct {
	ID       int64          `json:"id"`
	Previous int64          `json:"previousEventId"`
	Time     time.Time      `json:"timestamp"`
	Type     string         `json:"type"`
	Details  map[string]any `json:"details,omitempty"`
	// DetailsKey is the member the details go under.
	DetailsKey string `json:"detailsKey,omitempty"`
}

// wire renders the event for the API: timestamps as epoch seconds.
func (e event) wire() map[string]any {
	m := map[string]any{
		"id":              e.ID,
		"previousEventId": e.Previous,
		"timestamp":       epoch(e.Time),
		"type":            e.Type,
	}
	if e.DetailsKey != "" && e.Details != nil {
		m[e.DetailsKey] = e.Details
	}
	return m
}

// epoch is a timestamp as the JSON 1.0 protocol writes it.
func epoch(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

// detailsKeyOf names the details member of an event type: events of a
// family share one (every XStateEntered has stateEnteredEventDetails).
func detailsKeyOf(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	case strings.HasPrefix(typ, "MapIteration"):
		return "mapIteration" + strings.TrimPrefix(typ, "MapIteration") + "EventDetails"
	case typ == "MapStateStarted":
		return "mapStateStartedEventDetails"
	}
	if typ == "" {
		return ""
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

// withoutDetails are the types that have no details member.
var withoutDetails = map[string]bool{
	"ParallelStateStarted": true, "ParallelStateSucceeded": true, "MapStateSucceeded": true,
	"ParallelStateAborted": true, "MapStateAborted": true, "MapStateFailed": true, "ParallelStateFailed": true,
}

// emit appends an event of frame f (nil for the execution's own) to the
// commit's pending events.
func (x *execution) emit(f *frame, now time.Time, typ string, details map[string]any) {
	e := event{ID: x.NextEvent, Time: now, Type: typ}
	x.NextEvent++
	if f != nil {
		e.Previous = f.LastEvent
		f.LastEvent = e.ID
	} else if e.ID > 1 {
		e.Previous = e.ID - 1
	}
	if !withoutDetails[typ] && details != nil {
		e.DetailsKey = detailsKeyOf(typ)
		e.Details = details
	}
	x.Pending = append(x.Pending, e)
}

// payloadDetails gives a JSON text as an event's input or output with
// its *Details member.
func payloadDetails(m map[string]any, field string, v json.RawMessage) map[string]any {
	m[field] = string(v)
	m[field+"Details"] = map[string]any{"truncated": false}
	return m
}
