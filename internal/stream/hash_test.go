package stream

import (
	"math/big"
	"sort"
	"testing"
)

func TestShardForPartitionKey(t *testing.T) {
	// Hash keys computed independently: int(hashlib.md5(key).hexdigest(), 16).
	for _, tc := range []struct {
		key              string
		hash             string
		two, three, four int
	}{
		{"a", "16955237001963240173058271559858726497", 0, 0, 0},
		{"b", "195289424170611159128911017612795795343", 1, 1, 2},
		{"c", "99079589977253916124855502156832923443", 0, 0, 1},
		{"user-1", "285573413173782752570879317399258818820", 1, 2, 3},
		{"user-2", "81544010656874607678696621737415172275", 0, 0, 0},
	} {
		t.Run(tc.key, func(t *testing.T) {
			h := HashKey(tc.key)
			if h.String() != tc.hash {
				t.Fatalf("HashKey(%q) = %s, want %s", tc.key, h, tc.hash)
			}
			for n, want := range map[int]int{1: 0, 2: tc.two, 3: tc.three, 4: tc.four} {
				if got := ShardFor(h, n); got != want {
					t.Errorf("ShardFor(%s, %d) = %d, want %d", tc.key, n, got, want)
				}
				start, end := HashKeyRange(want, n)
				if h.Cmp(start) < 0 || h.Cmp(end) > 0 {
					t.Errorf("%s is outside shard %d of %d: %s-%s", h, want, n, start, end)
				}
			}
		})
	}
}

func TestHashKeyRanges(t *testing.T) {
	// Kinesis's ranges for a new 3-shard stream.
	for _, tc := range []struct {
		i, n       int
		start, end string
	}{
		{0, 1, "0", "340282366920938463463374607431768211455"},
		{0, 2, "0", "170141183460469231731687303715884105727"},
		{1, 2, "170141183460469231731687303715884105728", "340282366920938463463374607431768211455"},
		{0, 3, "0", "113427455640312821154458202477256070484"},
		{1, 3, "113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
		{2, 3, "226854911280625642308916404954512140970", "340282366920938463463374607431768211455"},
	} {
		start, end := HashKeyRange(tc.i, tc.n)
		if start.String() != tc.start || end.String() != tc.end {
			t.Errorf("HashKeyRange(%d, %d) = %s-%s, want %s-%s", tc.i, tc.n, start, end, tc.start, tc.end)
		}
		if ShardFor(start, tc.n) != tc.i || ShardFor(end, tc.n) != tc.i {
			t.Errorf("the ends of shard %d of %d map elsewhere", tc.i, tc.n)
		}
	}
}

func TestParseHashKey(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"340282366920938463463374607431768211455", true},
		{"340282366920938463463374607431768211456", false}, {"", false}, {"01", false}, {"-1", false}, {"1e3", false},
	} {
		h, err := ParseHashKey(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseHashKey(%q) err = %v, want ok %v", tc.in, err, tc.ok)
		}
		if err == nil && h.Cmp(new(big.Int).Set(h)) != 0 {
			t.Errorf("ParseHashKey(%q) = %s", tc.in, h)
		}
	}
}

func TestSequenceNumbers(t *testing.T) {
	seqs := []uint64{0, 1, 2, 9, 10, 99, 100, 123456789, 1<<63 + 5}
	var strs []string
	for _, n := range seqs {
		s := FormatSequence(n)
		if len(s) != 56 || s[0] == '0' {
			t.Fatalf("FormatSequence(%d) = %q: want 56 digits without a leading zero", n, s)
		}
		back, err := ParseSequence(s)
		if err != nil || back != n {
			t.Fatalf("ParseSequence(%q) = %d, %v; want %d", s, back, err, n)
		}
		strs = append(strs, s)
	}
	if !sort.StringsAreSorted(strs) {
		t.Errorf("sequence numbers do not sort as strings: %v", strs)
	}
	for _, bad := range []string{"", "49", "1", FormatSequence(1) + "0", "48" + FormatSequence(1)[2:], "49" + "x" + FormatSequence(1)[3:]} {
		if _, err := ParseSequence(bad); err == nil {
			t.Errorf("ParseSequence(%q) succeeded", bad)
		}
	}
}

func TestShardID(t *testing.T) {
	for _, i := range []int{0, 1, 15} {
		id := ShardID(i)
		if back, ok := ParseShardID(id); !ok || back != i {
			t.Errorf("ParseShardID(%q) = %d, %v", id, back, ok)
		}
	}
	if ShardID(1) != "shardId-000000000001" {
		t.Errorf("ShardID(1) = %s", ShardID(1))
	}
	for _, bad := range []string{"", "shardId-1", "shard-000000000001", "shardId-00000000000x"} {
		if _, ok := ParseShardID(bad); ok {
			t.Errorf("ParseShardID(%q) succeeded", bad)
		}
	}
}

func TestParseARN(t *testing.T) {
	for _, tc := range []struct {
		arn  string
		name string
		ok   bool
	}{
		{"arn:aws:kinesis:us-east-1:000000000000:stream/s-1.x", "s-1.x", true},
		{"arn:aws:kinesis:us-east-1:000000000000:s", "", false},
		{"arn:aws:sqs:us-east-1:000000000000:stream/s", "", false},
		{"arn:aws:kinesis:us-east-1:0000:stream/s", "", false},
		{"arn:aws:kinesis:us-east-1:000000000000:stream/a b", "", false},
	} {
		_, _, name, err := ParseARN(tc.arn)
		if (err == nil) != tc.ok || name != tc.name {
			t.Errorf("ParseARN(%q) = %q, %v", tc.arn, name, err)
		}
	}
}
