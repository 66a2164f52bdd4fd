// Command extfn is the external Lambda extension the tests deploy in a
// layer (/opt/extensions/<name>). It registers under its file name for
// INVOKE and SHUTDOWN and, for every INVOKE, keeps working after the
// runtime answered: it sleeps EXT_SLEEP_MS (default 300) and then writes
// "ext-done <requestId> <unix nanoseconds>" to $TMPDIR/updraft-test (the
// file testfn's read-tmp action reads) and prints "EXT done <requestId>".
// On SHUTDOWN it prints "SHUTDOWN <reason>" and exits. EXT_FAIL=init
// makes it post /extension/init/error instead of calling next, and
// EXT_FAIL=exit makes it post /extension/exit/error and exit.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type event struct {
	EventType      string `json:"eventType"`
	RequestID      string `json:"requestId"`
	ShutdownReason string `json:"shutdownReason"`
}

func main() {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2020-01-01/extension/"
	name := filepath.Base(os.Args[0])
	req, _ := http.NewRequest(http.MethodPost, base+"register", strings.NewReader(`{"events":["INVOKE","SHUTDOWN"]}`))
	req.Header.Set("Lambda-Extension-Name", name)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail("register: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fail("register: status %d", resp.StatusCode)
	}
	id := resp.Header.Get("Lambda-Extension-Identifier")
	switch os.Getenv("EXT_FAIL") {
	case "init", "exit":
		req, _ := http.NewRequest(http.MethodPost, base+os.Getenv("EXT_FAIL")+"/error", bytes.NewReader([]byte(`{"errorMessage":"extfn told to fail"}`)))
		req.Header.Set("Lambda-Extension-Identifier", id)
		req.Header.Set("Lambda-Extension-Function-Error-Type", "Extension.TestFailure")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	}
	sleep := 300 * time.Millisecond
	if ms, err := strconv.Atoi(os.Getenv("EXT_SLEEP_MS")); err == nil {
		sleep = time.Duration(ms) * time.Millisecond
	}
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"event/next", nil)
		req.Header.Set("Lambda-Extension-Identifier", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fail("next: %v", err)
		}
		var ev event
		err = json.NewDecoder(resp.Body).Decode(&ev)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			fail("next: status %d: %v", resp.StatusCode, err)
		}
		switch ev.EventType {
		case "INVOKE":
			time.Sleep(sleep)
			marker := fmt.Sprintf("ext-done %s %d", ev.RequestID, time.Now().UnixNano())
			if err := os.WriteFile(filepath.Join(os.TempDir(), "updraft-test"), []byte(marker), 0o644); err != nil {
				fail("marker: %v", err)
			}
			fmt.Println("EXT done", ev.RequestID)
		case "SHUTDOWN":
			fmt.Println("SHUTDOWN", ev.ShutdownReason)
			os.Exit(0)
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "extfn: "+format+"\n", args...)
	os.Exit(2)
}
