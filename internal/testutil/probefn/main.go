// Command probefn is the attacker of the isolation tests: an aws-lambda-go
// function that tries, from inside its sandbox, what a hostile function
// would try against the host and the functions next to it, and reports
// what happened instead of failing.
//
// Actions (event "action", argument "value", size "n"): status (the
// NoNewPrivs, CapBnd, CapEff and Seccomp lines of /proc/self/status),
// connect (TCP to value, 1 s), http-get (GET value), listeners (the
// listening sockets of /proc/net/tcp), stat (what value is), write (create
// a file at value), mount (a tmpfs on /tmp/m), exec (run value as a shell
// command line, e.g. "unshare -n true"), fill-tmp (write n MB to /tmp,
// then remove it), df-tmp (the size of /tmp in MB), fork-bomb (start
// `sleep` until refused, at most n), pid, sdk-list (ListFunctions with the
// AWS SDK, configured only from the environment).
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// Event selects the probe.
type Event struct {
	Action string `json:"action"`
	Value  string `json:"value"`
	N      int    `json:"n"`
}

// Result is what a probe saw: OK and a value, or the error it met.
type Result struct {
	OK    bool     `json:"ok"`
	Value string   `json:"value,omitempty"`
	Lines []string `json:"lines,omitempty"`
	Error string   `json:"error,omitempty"`
	Errno int      `json:"errno,omitempty"`
}

func failed(err error) Result {
	r := Result{Error: err.Error()}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		r.Errno = int(errno)
	}
	return r
}

func handle(ctx context.Context, e Event) (Result, error) {
	switch e.Action {
	case "status":
		return statusLines()
	case "connect":
		c, err := net.DialTimeout("tcp", e.Value, time.Second)
		if err != nil {
			return failed(err), nil
		}
		c.Close()
		return Result{OK: true}, nil
	case "http-get":
		client := &http.Client{Timeout: 3 * time.Second}
		resp, err := client.Get(e.Value)
		if err != nil {
			return failed(err), nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return Result{OK: resp.StatusCode == 200, Value: string(b)}, nil
	case "listeners":
		return listeners()
	case "stat":
		fi, err := os.Stat(e.Value)
		if err != nil {
			return failed(err), nil
		}
		return Result{OK: true, Value: fi.Mode().String()}, nil
	case "write":
		err := os.WriteFile(e.Value, []byte("probe"), 0o644)
		if err != nil {
			return failed(err), nil
		}
		return Result{OK: true}, nil
	case "mount":
		_ = os.MkdirAll("/tmp/m", 0o755)
		if err := syscall.Mount("tmpfs", "/tmp/m", "tmpfs", 0, ""); err != nil {
			return failed(err), nil
		}
		return Result{OK: true}, nil
	case "exec":
		out, err := exec.CommandContext(ctx, "/bin/sh", "-c", e.Value).CombinedOutput()
		if err != nil {
			return Result{Value: string(out), Error: err.Error()}, nil
		}
		return Result{OK: true, Value: string(out)}, nil
	case "fill-tmp":
		return fillTmp(e.N)
	case "df-tmp":
		var st syscall.Statfs_t
		if err := syscall.Statfs("/tmp", &st); err != nil {
			return failed(err), nil
		}
		return Result{OK: true, Value: strconv.FormatUint(st.Blocks*uint64(st.Bsize)>>20, 10)}, nil
	case "fork-bomb":
		return forkBomb(e.N)
	case "pid":
		return Result{OK: true, Value: strconv.Itoa(os.Getpid())}, nil
	case "env-creds":
		return Result{OK: true, Lines: []string{os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")}}, nil
	case "sdk":
		return sdkCall(ctx, e.Value)
	case "sdk-list":
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return failed(err), nil
		}
		out, err := awslambda.NewFromConfig(cfg).ListFunctions(ctx, &awslambda.ListFunctionsInput{})
		if err != nil {
			return failed(err), nil
		}
		return Result{OK: true, Value: strconv.Itoa(len(out.Functions))}, nil
	}
	return Result{}, fmt.Errorf("unknown action %q", e.Action)
}

// sdkCall makes one Lambda API call with the SDK configured from the
// environment: "ListFunctions", "GetFunction:NAME", "DeleteFunction:NAME",
// "Invoke:NAME" or "InvokeEvent:NAME"; a refusal is reported with its
// error code in Value.
func sdkCall(ctx context.Context, call string) (Result, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryMaxAttempts(1))
	if err != nil {
		return failed(err), nil
	}
	c := awslambda.NewFromConfig(cfg)
	op, name, _ := strings.Cut(call, ":")
	switch op {
	case "ListFunctions":
		_, err = c.ListFunctions(ctx, &awslambda.ListFunctionsInput{})
	case "GetFunction":
		_, err = c.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: &name})
	case "DeleteFunction":
		_, err = c.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: &name})
	case "Invoke":
		_, err = c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: &name, Payload: []byte(`{}`)})
	case "InvokeEvent":
		_, err = c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: &name, Payload: []byte(`{}`), InvocationType: types.InvocationTypeEvent})
	default:
		return Result{}, fmt.Errorf("unknown SDK call %q", call)
	}
	if err != nil {
		r := failed(err)
		var ae smithy.APIError
		if errors.As(err, &ae) {
			r.Value = ae.ErrorCode()
		}
		return r, nil
	}
	return Result{OK: true}, nil
}

func statusLines() (Result, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return failed(err), nil
	}
	defer f.Close()
	var r Result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		for _, k := range []string{"NoNewPrivs:", "CapBnd:", "CapEff:", "CapPrm:", "CapAmb:", "Seccomp:", "Uid:"} {
			if strings.HasPrefix(l, k) {
				r.Lines = append(r.Lines, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	r.OK = true
	return r, nil
}

// listeners returns "ADDR:PORT" of every listening IPv4 TCP socket the
// probe can see.
func listeners() (Result, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return failed(err), nil
	}
	defer f.Close()
	var r Result
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 || fs[3] != "0A" { // TCP_LISTEN
			continue
		}
		addr, port, _ := strings.Cut(fs[1], ":")
		a, _ := strconv.ParseUint(addr, 16, 32)
		p, _ := strconv.ParseUint(port, 16, 16)
		ip := net.IPv4(byte(a), byte(a>>8), byte(a>>16), byte(a>>24))
		r.Lines = append(r.Lines, fmt.Sprintf("%s:%d", ip, p))
	}
	r.OK = true
	return r, nil
}

// fillTmp writes mb megabytes to /tmp and removes the file again.
func fillTmp(mb int) (Result, error) {
	f, err := os.Create("/tmp/fill")
	if err != nil {
		return failed(err), nil
	}
	defer os.Remove("/tmp/fill")
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for i := 0; i < mb; i++ {
		if _, err := f.Write(buf); err != nil {
			r := failed(err)
			r.Value = strconv.Itoa(i)
			return r, nil
		}
	}
	if err := f.Sync(); err != nil {
		r := failed(err)
		r.Value = strconv.Itoa(mb)
		return r, nil
	}
	return Result{OK: true, Value: strconv.Itoa(mb)}, nil
}

// forkBomb starts sleeping children until the system refuses one (or max
// run), reports how many ran, and kills them.
func forkBomb(max int) (Result, error) {
	var procs []*os.Process
	defer func() {
		for _, p := range procs {
			_ = p.Kill()
			_, _ = p.Wait()
		}
	}()
	attr := &os.ProcAttr{Files: []*os.File{nil, nil, nil}}
	for len(procs) < max {
		p, err := os.StartProcess("/bin/sleep", []string{"sleep", "30"}, attr)
		if err != nil {
			r := failed(err)
			r.Value = strconv.Itoa(len(procs))
			return r, nil
		}
		procs = append(procs, p)
	}
	return Result{OK: true, Value: strconv.Itoa(len(procs))}, nil
}

func main() {
	lambda.Start(handle)
}
