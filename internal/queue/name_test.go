package queue

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"a single letter is a name", "q", true},
		{"letters, digits, hyphens and underscores are allowed", "My-DLQ_2", true},
		{"80 characters are allowed", strings.Repeat("a", 80), true},
		{"a .fifo suffix is allowed", "orders.fifo", true},
		{"the .fifo suffix counts towards 80", strings.Repeat("a", 75) + ".fifo", true},
		{"an empty name is refused", "", false},
		{"81 characters are refused", strings.Repeat("a", 81), false},
		{"81 characters with .fifo are refused", strings.Repeat("a", 76) + ".fifo", false},
		{"a bare .fifo is refused", ".fifo", false},
		{"a period elsewhere is refused", "a.b", false},
		{"a double suffix is refused", "a.fifo.fifo", false},
		{"spaces are refused", "my queue", false},
		{"NATS wildcards are refused", "a*", false},
		{"NATS wildcards are refused (>)", "a>", false},
		{"slashes are refused", "a/b", false},
		{"non-ASCII letters are refused", "café", false},
		{"a colon is refused", "a:b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidName(tc.in)
			if tc.ok && err != nil {
				t.Fatalf("ValidName(%q) = %v, want nil", tc.in, err)
			}
			if !tc.ok {
				var ve *ValidationError
				if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) || ve.Message == "" {
					t.Fatalf("ValidName(%q) = %v, want a *ValidationError", tc.in, err)
				}
			}
		})
	}
}

func TestParseARN(t *testing.T) {
	tests := []struct {
		name                  string
		arn                   string
		region, account, want string
		ok                    bool
	}{
		{"a standard queue ARN", "arn:aws:sqs:us-east-1:000000000000:dlq", "us-east-1", "000000000000", "dlq", true},
		{"a FIFO queue ARN", "arn:aws:sqs:eu-west-1:123456789012:orders.fifo", "eu-west-1", "123456789012", "orders.fifo", true},
		{"another region", "arn:aws:sqs:cn-north-1:123456789012:q", "cn-north-1", "123456789012", "q", true},
		{"another partition is refused", "arn:aws-cn:sqs:cn-north-1:123456789012:q", "", "", "", false},
		{"an upper-case region is refused", "arn:aws:sqs:US-EAST-1:000000000000:q", "", "", "", false},
		{"an SNS ARN is refused", "arn:aws:sns:us-east-1:000000000000:topic", "", "", "", false},
		{"a Lambda ARN is refused", "arn:aws:lambda:us-east-1:000000000000:function:f", "", "", "", false},
		{"a missing name is refused", "arn:aws:sqs:us-east-1:000000000000:", "", "", "", false},
		{"a bad name is refused", "arn:aws:sqs:us-east-1:000000000000:a.b", "", "", "", false},
		{"a short account is refused", "arn:aws:sqs:us-east-1:1234:q", "", "", "", false},
		{"a non-numeric account is refused", "arn:aws:sqs:us-east-1:12345678901x:q", "", "", "", false},
		{"an empty region is refused", "arn:aws:sqs::000000000000:q", "", "", "", false},
		{"too few parts are refused", "arn:aws:sqs:us-east-1:q", "", "", "", false},
		{"too many parts are refused", "arn:aws:sqs:us-east-1:000000000000:q:x", "", "", "", false},
		{"a bare name is refused", "dlq", "", "", "", false},
		{"an empty string is refused", "", "", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			region, account, name, err := ParseARN(tc.arn)
			if !tc.ok {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("ParseARN(%q) = %q %q %q %v, want a validation error", tc.arn, region, account, name, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseARN(%q): %v", tc.arn, err)
			}
			if region != tc.region || account != tc.account || name != tc.want {
				t.Errorf("ParseARN(%q) = %q %q %q, want %q %q %q", tc.arn, region, account, name, tc.region, tc.account, tc.want)
			}
			if got := ARN(region, account, name); got != tc.arn {
				t.Errorf("ARN(...) = %q, want %q back", got, tc.arn)
			}
		})
	}
}

func TestEncodeName(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"dlq", "dlq"},
		{"a-b-9", "a-b-9"},
		{"my_queue", "my__queue"},
		{"DLQ", "_d_l_q"},
		{"orders.fifo", "orders_0fifo"},
		{"orders_fifo", "orders__fifo"},
		{"My_Queue.fifo", "_my___queue_0fifo"},
		{"__", "____"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := encodeName(tc.in)
			if got != tc.want {
				t.Errorf("encodeName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			back, err := decodeName(got)
			if err != nil || back != tc.in {
				t.Errorf("decodeName(%q) = %q, %v; want %q", got, back, err, tc.in)
			}
			if strings.ContainsAny(got, ".*> \t/\\") {
				t.Errorf("encodeName(%q) = %q holds a character streams and subjects cannot", tc.in, got)
			}
			if got != strings.ToLower(got) {
				t.Errorf("encodeName(%q) = %q is not lower case", tc.in, got)
			}
		})
	}
}

// TestEncodeNameKeepsNamesApart checks the pairs that naive encodings
// confuse: .fifo against _fifo, and names that differ only in case.
func TestEncodeNameKeepsNamesApart(t *testing.T) {
	names := []string{"a.fifo", "a_fifo", "a_0fifo", "A", "a", "_a", "__a", "a_", "Ab", "aB", "ab", "a-b", "a_b", "A_B"}
	seen := map[string]string{}
	for _, n := range names {
		if err := ValidName(n); err != nil {
			t.Fatalf("test name %q is invalid: %v", n, err)
		}
		enc := encodeName(n)
		if other, dup := seen[strings.ToLower(enc)]; dup {
			t.Errorf("%q and %q both encode to %q (ignoring case)", n, other, enc)
		}
		seen[strings.ToLower(enc)] = n
	}
}

func TestDecodeNameRefusesWhatEncodeCannotProduce(t *testing.T) {
	for _, enc := range []string{"", "_", "a_", "_A", "_1", "a.b", "A", "a b", "_0", "a_0", "a_0fifo_0fifo", strings.Repeat("b", 81)} {
		if name, err := decodeName(enc); err == nil {
			t.Errorf("decodeName(%q) = %q, want an error", enc, name)
		}
	}
}

func TestNameOfStream(t *testing.T) {
	if name, ok := nameOfStream(streamName("Orders.fifo")); !ok || name != "Orders.fifo" {
		t.Errorf("nameOfStream(streamName(Orders.fifo)) = %q, %v", name, ok)
	}
	for _, s := range []string{"UPDRAFT_LOGS", "KV_updraft-functions", "UPDRAFT_QUEUE_", "UPDRAFT_QUEUE_X"} {
		if name, ok := nameOfStream(s); ok {
			t.Errorf("nameOfStream(%q) = %q, want no queue", s, name)
		}
	}
	if got, want := subject("A.fifo"), "updraft.queue._a_0fifo"; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	if got, want := streamName("A.fifo"), "UPDRAFT_QUEUE__a_0fifo"; got != want {
		t.Errorf("streamName = %q, want %q", got, want)
	}
}
