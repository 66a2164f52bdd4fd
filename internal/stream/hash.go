package stream

import (
	"crypto/md5"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// maxHashKey is 2^128-1, the top of the hash key space.
var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// HashKey is the hash key of a partition key: its MD5 digest read as an
// unsigned 128-bit big-endian integer, as Kinesis computes it.
func HashKey(partitionKey string) *big.Int {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:])
}

// ParseHashKey reads an ExplicitHashKey: a decimal integer from 0 to
// 2^128-1 without leading zeros (Kinesis's pattern 0|([1-9]\d{0,38})).
func ParseHashKey(s string) (*big.Int, error) {
	if s == "" || len(s) > 39 || strings.Trim(s, "0123456789") != "" || (len(s) > 1 && s[0] == '0') {
		return nil, invalid("ExplicitHashKey %q is not a decimal integer from 0 to 2^128-1.", trunc(s))
	}
	h, ok := new(big.Int).SetString(s, 10)
	if !ok || h.Cmp(maxHashKey) > 0 {
		return nil, invalid("ExplicitHashKey %q is not a decimal integer from 0 to 2^128-1.", trunc(s))
	}
	return h, nil
}

// step is the width of each of n shards' hash key ranges but the last,
// which also takes the remainder: floor(2^128 / n), as Kinesis splits the
// range for a new stream.
func step(n int) *big.Int {
	return new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(int64(n)))
}

// HashKeyRange returns the first and last hash key of shard i of n.
func HashKeyRange(i, n int) (start, end *big.Int) {
	w := step(n)
	start = new(big.Int).Mul(w, big.NewInt(int64(i)))
	if i == n-1 {
		return start, new(big.Int).Set(maxHashKey)
	}
	end = new(big.Int).Sub(new(big.Int).Add(start, w), big.NewInt(1))
	return start, end
}

// ShardFor returns the index of the shard of n whose range holds hash.
func ShardFor(hash *big.Int, n int) int {
	i := new(big.Int).Div(hash, step(n))
	if !i.IsInt64() || i.Int64() >= int64(n) {
		return n - 1
	}
	return int(i.Int64())
}

// ShardID is Kinesis's name of shard i: shardId-000000000000.
func ShardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// ParseShardID reverses ShardID.
func ParseShardID(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, "shardId-")
	if !ok || len(rest) != 12 {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil && i >= 0
}

// seqPrefix starts every sequence number, so that all have 56 digits and
// no leading zero, like Kinesis's.
const seqPrefix = "49"

// FormatSequence writes a JetStream stream sequence as a Kinesis sequence
// number: "49" and the sequence zero-padded to 54 digits. Sequence
// numbers so written sort the same as strings and as numbers.
func FormatSequence(seq uint64) string {
	return fmt.Sprintf("%s%054d", seqPrefix, seq)
}

// ParseSequence reverses FormatSequence.
func ParseSequence(s string) (uint64, error) {
	rest, ok := strings.CutPrefix(s, seqPrefix)
	if !ok || len(rest) != 54 || strings.Trim(rest, "0123456789") != "" {
		return 0, invalid("%q is not a sequence number of this stream.", trunc(s))
	}
	n, err := strconv.ParseUint(strings.TrimLeft(rest, "0"), 10, 64)
	if err != nil && strings.TrimLeft(rest, "0") != "" {
		return 0, invalid("%q is not a sequence number of this stream.", trunc(s))
	}
	return n, nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
