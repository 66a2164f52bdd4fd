package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

// proxyEcho is the body internal/testutil/apigwfn answers.
type proxyEcho struct {
	Method, Path, Query, Greeting, Body, Proxy, RequestID string
	Base64                                                bool
}

// TestHTTPProxy calls functions written for API Gateway's Lambda proxy
// integration over plain HTTP, signed with service execute-api as API
// Gateway's IAM authorization is: an aws-lambda-go handler taking
// events.APIGatewayProxyRequest, and a Python handler returning a dict.
func TestHTTPProxy(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	zip := testutil.FunctionZip(t, "./internal/testutil/apigwfn", "")
	createTestFunction(t, srv.Lambda(), "web", fnOpts{zip: zip})

	tests := []struct {
		name, method, path string
		body               []byte
		contentType        string
		want               proxyEcho
	}{
		{
			name: "GET with a query and a header", method: "GET", path: "/updraft/v1/http/web/items/42?q=hello&q=world",
			want: proxyEcho{Method: "GET", Path: "/items/42", Query: "world", Greeting: "hi there", Proxy: "items/42"},
		},
		{
			name: "POST with a JSON body", method: "POST", path: "/updraft/v1/http/web/orders",
			body: []byte(`{"item":"carrot"}`), contentType: "application/json",
			want: proxyEcho{Method: "POST", Path: "/orders", Greeting: "hi there", Body: `{"item":"carrot"}`, Proxy: "orders"},
		},
		{
			name: "POST with a binary body arrives base64", method: "POST", path: "/updraft/v1/http/web:$LATEST",
			body: []byte{0x89, 'P', 'N', 'G'}, contentType: "image/png",
			want: proxyEcho{Method: "POST", Path: "/", Greeting: "hi there", Body: "iVBORw==", Base64: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Greeting", "hi there")
			if tc.contentType != "" {
				h.Set("Content-Type", tc.contentType)
			}
			status, header, body := signedDo(t, srv, "execute-api", tc.method, tc.path, tc.body, h)
			if status != 201 {
				t.Fatalf("status %d, want 201: %s", status, body)
			}
			if header.Get("X-Echo-Method") != tc.method || !slices.Equal(header.Values("X-Multi"), []string{"a", "b"}) ||
				header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", header)
			}
			var got proxyEcho
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if got.RequestID == "" || got.RequestID != header.Get("X-Amzn-Requestid") {
				t.Errorf("event request id %q, response x-amzn-RequestId %q", got.RequestID, header.Get("X-Amzn-Requestid"))
			}
			got.RequestID = ""
			if got != tc.want {
				t.Errorf("function saw %+v, want %+v", got, tc.want)
			}
		})
	}

	for _, path := range []string{"/panic", "/error"} {
		t.Run("a function that fails on "+path+" is 502", func(t *testing.T) {
			status, header, body := signedDo(t, srv, "execute-api", "GET", "/updraft/v1/http/web"+path, nil, nil)
			if status != 502 || string(body) != `{"message": "Internal server error"}` ||
				header.Get("X-Amzn-Errortype") != "InternalServerErrorException" {
				t.Errorf("%d %v %s", status, header, body)
			}
		})
	}

	t.Run("an unknown function is 404", func(t *testing.T) {
		status, _, body := signedDo(t, srv, "execute-api", "GET", "/updraft/v1/http/nobody/x", nil, nil)
		if status != 404 || string(body) != `{"message":"Not Found"}` {
			t.Errorf("%d %s", status, body)
		}
	})

	t.Run("an unsigned request is refused like every other endpoint", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/updraft/v1/http/web/x")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("unsigned: %d, want 403", resp.StatusCode)
		}
	})

	t.Run("a Python handler returning a dict", func(t *testing.T) {
		pyRequire(t)
		pyCreate(t, srv.Lambda(), "pyweb", "web.handler", nil)
		status, header, body := signedDo(t, srv, "execute-api", "PUT", "/updraft/v1/http/pyweb/tea?q=green",
			[]byte("two sugars"), http.Header{"Content-Type": {"text/plain"}})
		if status != 418 || header.Get("X-Runtime") != "python" || header.Get("Content-Type") != "text/plain" ||
			string(body) != "PUT /tea q=green body=two sugars" {
			t.Errorf("%d %v %q", status, header, body)
		}
	})
}
