package asl

import (
	"errors"
	"testing"
)

// FuzzParse feeds the definition parser arbitrary text: it must return
// a definition or a *DefinitionError, never panic, and a definition it
// accepts must have a StartAt that names one of its states.
func FuzzParse(f *testing.F) {
	f.Add(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`)
	f.Add(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","StringMatches":"x*"},"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`)
	f.Add(`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","ItemSelector":{"v.$":"States.Format('{}',$$.Map.Item.Value)"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`)
	f.Add(`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}],"Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}}}`)
	f.Add(`{"StartAt":`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse([]byte(s))
		if err != nil {
			var de *DefinitionError
			if !errors.As(err, &de) || len(de.Diagnostics) == 0 {
				t.Fatalf("Parse error %v is not a *DefinitionError with diagnostics", err)
			}
			return
		}
		if _, ok := d.States[d.StartAt]; !ok {
			t.Fatalf("accepted a definition whose StartAt %q names no state", d.StartAt)
		}
	})
}
