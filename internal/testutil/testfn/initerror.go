package main

import (
	"net/http"
	"strings"
)

func postInitError(api string) {
	body := `{"errorMessage":"cannot load handler","errorType":"Runtime.HandlerNotFound"}`
	req, err := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", strings.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.HandlerNotFound")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
}
