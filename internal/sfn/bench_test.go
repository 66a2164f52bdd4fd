package sfn

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// passChain is a definition of n Pass states in a row.
func passChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","End":true}`, i)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Result":%d,"ResultPath":"$.last","Next":"S%d"}`, i, i, i+1)
		}
	}
	b.WriteString(`}}`)
	return b.String()
}

// firstCall records when a function was first invoked.
type firstCall struct{ at atomic.Int64 }

func (f *firstCall) Invoke(_ context.Context, _ *invoke.Request) (*invoke.Response, error) {
	f.at.CompareAndSwap(0, time.Now().UnixNano())
	return &invoke.Response{StatusCode: 200, Payload: []byte(`{}`), ExecutedVersion: "$LATEST"}, nil
}

func benchService(b *testing.B, inv Invoker) (*fixture, func()) {
	b.Helper()
	logger := testutil.Logger(b, slog.LevelWarn)
	st := storetest.Open(b, b.TempDir(), logger)
	svc, err := New(context.Background(), Config{Region: "us-east-1", AccountID: "123456789012"}, Deps{JetStream: st.JetStream(), Invoker: inv, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	return &fixture{svc: svc, h: svc.Handler(nil)}, func() { _ = svc.Close(context.Background()) }
}

// BenchmarkPassChain runs a 1,000-state Pass chain and reports state
// transitions per second, for STANDARD and EXPRESS machines.
func BenchmarkPassChain(b *testing.B) {
	for _, typ := range []string{TypeStandard, TypeExpress} {
		b.Run(typ, func(b *testing.B) {
			f, stop := benchService(b, nil)
			defer stop()
			f.mustB(b, "CreateStateMachine", map[string]any{"name": "chain", "type": typ, "definition": passChain(1000), "roleArn": "arn:aws:iam::123456789012:role/r"})
			b.ResetTimer()
			began := time.Now()
			for range b.N {
				start := f.mustB(b, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("chain")})
				for {
					d := f.mustB(b, "DescribeExecution", map[string]any{"executionArn": start["executionArn"]})
					if d["status"] != StatusRunning {
						if d["status"] != StatusSucceeded {
							b.Fatalf("execution %v", d)
						}
						break
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
			b.ReportMetric(float64(1000*b.N)/time.Since(began).Seconds(), "transitions/s")
		})
	}
}

// BenchmarkStartToFirstTask reports the time from StartExecution to the
// first task's function call.
func BenchmarkStartToFirstTask(b *testing.B) {
	var total time.Duration
	for range b.N {
		inv := &firstCall{}
		f, stop := benchService(b, inv)
		f.mustB(b, "CreateStateMachine", map[string]any{"name": "task", "definition": `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}`, "roleArn": "arn:aws:iam::123456789012:role/r"})
		began := time.Now()
		f.mustB(b, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("task")})
		for inv.at.Load() == 0 {
			time.Sleep(100 * time.Microsecond)
		}
		total += time.Duration(inv.at.Load() - began.UnixNano())
		stop()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/start-to-task")
}

// sleeper is a function that takes 100 ms, as the seed's computing
// function in the benchmark does.
type sleeper struct{}

func (sleeper) Invoke(ctx context.Context, req *invoke.Request) (*invoke.Response, error) {
	select {
	case <-time.After(100 * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &invoke.Response{StatusCode: 200, Payload: req.Payload, ExecutedVersion: "$LATEST"}, nil
}

// BenchmarkFanOut maps a 100 ms function over 200 items with
// MaxConcurrency 20 (ideal: 1 s) and reports the ratio to the ideal: the
// executor's own cost, without the pool's.
func BenchmarkFanOut(b *testing.B) {
	f, stop := benchService(b, sleeper{})
	defer stop()
	def := `{"StartAt":"Fan","States":{"Fan":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":20,
	  "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}},"End":true}}}`
	f.mustB(b, "CreateStateMachine", map[string]any{"name": "fan", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"})
	xs := make([]int, 200)
	input := fmt.Sprintf(`{"xs":%s}`, strings.ReplaceAll(fmt.Sprint(xs), " ", ","))
	b.ResetTimer()
	began := time.Now()
	for range b.N {
		start := f.mustB(b, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("fan"), "input": input})
		for {
			d := f.mustB(b, "DescribeExecution", map[string]any{"executionArn": start["executionArn"]})
			if d["status"] != StatusRunning {
				if d["status"] != StatusSucceeded {
					b.Fatalf("execution %v", d)
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	b.ReportMetric(time.Since(began).Seconds()/float64(b.N)/1.0, "x-ideal")
}
