package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// dynamoKeys is how many distinct items the DynamoDB phase writes and
// reads, cycling.
const dynamoKeys = 1000

// dynamoResults are the DynamoDB phase's series: p50 at concurrency 1
// and throughput at concurrency 8 of PutItem and GetItem, each beside
// the floor measured in the same round.
type dynamoResults struct {
	putP50, getP50, putRate, getRate series
	floorErrs, errs                  errCount
}

// dynamoCall posts one DynamoDB operation to base.
func dynamoCall(c *http.Client, base, op string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d: %s", op, resp.StatusCode, snippet(b))
	}
	return nil
}

// p50Of runs fn n times in sequence and returns the median duration of
// the calls that succeeded.
func p50Of(n int, fn func(i int) error, errs *errCount) (time.Duration, bool) {
	d := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		if err := fn(i); err != nil {
			errs.add(err)
			continue
		}
		d = append(d, time.Since(start))
	}
	if len(d) == 0 {
		return 0, false
	}
	slices.Sort(d)
	return d[len(d)/2], true
}

// rateOf runs fn from conc workers for d and returns successes per second.
func rateOf(conc int, d time.Duration, fn func(i int) error, errs *errCount) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ok, seq atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := fn(int(seq.Add(1))); err != nil {
					errs.add(err)
				} else {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}

// dynamoPhase measures PutItem and GetItem on a table of the server.
func (b *bench) dynamoPhase() error {
	res := &dynamoResults{}
	b.dynamo = res
	base := b.server.url
	if err := dynamoCall(b.client, base, "CreateTable", []byte(`{"TableName":"bench","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)); err != nil {
		return err
	}
	put := func(i int) error {
		return dynamoCall(b.client, base, "PutItem", fmt.Appendf(nil, `{"TableName":"bench","Item":{"pk":{"S":"k%d"},"n":{"N":"%d"},"s":{"S":"hello world"}}}`, i%dynamoKeys, i))
	}
	get := func(i int) error {
		return dynamoCall(b.client, base, "GetItem", fmt.Appendf(nil, `{"TableName":"bench","Key":{"pk":{"S":"k%d"}},"ConsistentRead":true}`, i%dynamoKeys))
	}
	floor := func(int) error { return post(b.client, b.floor.url, b.payload) }
	for i := range dynamoKeys {
		if err := put(i); err != nil {
			return fmt.Errorf("filling the table: %w", err)
		}
	}
	n := max(b.opts.samples/2, 100)
	for r := range b.opts.rounds {
		for _, m := range []struct {
			fn        func(int) error
			p50, rate *series
		}{{put, &res.putP50, &res.putRate}, {get, &res.getP50, &res.getRate}} {
			var f, u time.Duration
			var fok, uok bool
			var fr, ur float64
			measureFloor := func() {
				f, fok = p50Of(n, floor, &res.floorErrs)
				fr = rateOf(8, b.opts.duration, floor, &res.floorErrs)
			}
			measureUpd := func() {
				u, uok = p50Of(n, m.fn, &res.errs)
				ur = rateOf(8, b.opts.duration, m.fn, &res.errs)
			}
			if floorFirst(r) {
				measureFloor()
				measureUpd()
			} else {
				measureUpd()
				measureFloor()
			}
			if fok && uok {
				m.p50.add(float64(f), float64(u))
			}
			if fr > 0 && ur > 0 {
				m.rate.add(fr, ur)
			}
		}
	}
	return nil
}

// printDynamo prints the DynamoDB phase's rows.
func (res *dynamoResults) print() {
	durRow("DynamoDB PutItem p50, concurrency 1", &res.putP50)
	durRow("DynamoDB GetItem p50, concurrency 1", &res.getP50)
	rateRow("DynamoDB PutItem throughput, concurrency 8", &res.putRate)
	rateRow("DynamoDB GetItem throughput, concurrency 8", &res.getRate)
	fmt.Printf("    a %d-item table, --auth none; the floor is the same loopback HTTP round trip as above\n", dynamoKeys)
	errRow("floor", &res.floorErrs)
	errRow("updraft", &res.errs)
}
