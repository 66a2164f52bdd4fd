// Command streamfn is the streaming test function: a custom runtime that
// speaks the Runtime API itself with net/http, because aws-lambda-go never
// posts in streaming mode (a handler's io.Reader goes out chunked but
// without Lambda-Runtime-Function-Response-Mode, i.e. buffered).
//
// Each event says what to write, as one POST /response with
// "Lambda-Runtime-Function-Response-Mode: streaming", a chunked body and
// the error trailers declared: First bytes, a pause of PauseMs, then Size
// more bytes in writes of Chunk bytes. The bytes are pattern's: byte i of
// the response is 'a'+i%26. Options: Error reports a function error in the
// trailers after the body; Exit ends the process after the first write;
// Buffered posts the same bytes in one piece without the mode header;
// Mode sends that mode header value instead of "streaming".
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// Event selects the response.
type Event struct {
	First    int    `json:"first"`
	PauseMs  int    `json:"pauseMs"`
	Size     int    `json:"size"`
	Chunk    int    `json:"chunk"`
	Error    bool   `json:"error"`
	Exit     bool   `json:"exit"`
	Buffered bool   `json:"buffered"`
	Mode     string `json:"mode"`
}

// pattern returns n bytes of the response starting at offset off.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (off+i)%26)
	}
	return b
}

func main() {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	client := &http.Client{}
	for {
		resp, err := client.Get(base + "next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(1)
		}
		payload, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, "next:", resp.StatusCode, err)
			os.Exit(1)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var ev Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			fmt.Fprintln(os.Stderr, "event:", err)
		}
		fmt.Printf("streamfn request=%s first=%d size=%d\n", id, ev.First, ev.Size)
		if err := respond(client, base+id+"/response", ev); err != nil {
			fmt.Fprintln(os.Stderr, "respond:", err)
		}
	}
}

// respond posts the response ev describes.
func respond(client *http.Client, url string, ev Event) error {
	if ev.Buffered {
		return post(client, url, bytes.NewReader(pattern(0, ev.First+ev.Size)), nil, "")
	}
	if ev.Chunk <= 0 {
		ev.Chunk = 64 << 10
	}
	mode := ev.Mode
	if mode == "" {
		mode = "streaming"
	}
	pr, pw := io.Pipe()
	trailer := http.Header{
		"Lambda-Runtime-Function-Error-Type": nil,
		"Lambda-Runtime-Function-Error-Body": nil,
	}
	go func() {
		off := 0
		write := func(n int) bool {
			if _, err := pw.Write(pattern(off, n)); err != nil {
				return false
			}
			off += n
			return true
		}
		if ev.First > 0 && !write(ev.First) {
			return
		}
		time.Sleep(time.Duration(ev.PauseMs) * time.Millisecond)
		if ev.Exit {
			fmt.Println("streamfn exiting mid-stream")
			os.Exit(2)
		}
		for left := ev.Size; left > 0; left -= ev.Chunk {
			if !write(min(left, ev.Chunk)) {
				return
			}
		}
		if ev.Error {
			doc, _ := json.Marshal(map[string]string{"errorType": "StreamError", "errorMessage": "streamfn failed mid-stream"})
			trailer.Set("Lambda-Runtime-Function-Error-Type", "Function.StreamError")
			trailer.Set("Lambda-Runtime-Function-Error-Body", base64.StdEncoding.EncodeToString(doc))
		}
		pw.Close()
	}()
	return post(client, url, pr, trailer, mode)
}

// post sends one /response; a nil trailer and empty mode make it a plain
// buffered answer.
func post(client *http.Client, url string, body io.Reader, trailer http.Header, mode string) error {
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if mode != "" {
		req.Header.Set("Lambda-Runtime-Function-Response-Mode", mode)
	}
	req.Trailer = trailer
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
