package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// CallJSON calls an operation of an AWS JSON 1.0 protocol service
// (Step Functions): POST / with X-Amz-Target target, the request in as
// its body, signed for service; the answer is decoded into out (nil
// ignores it). An error answer is an *[APIError] decoded from its
// __type and message.
func (c *Client) CallJSON(ctx context.Context, service, target string, in, out any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("client: %s: encode: %w", target, err)
	}
	u := *c.endpoint
	u.Path = strings.TrimRight(c.endpoint.Path, "/") + "/"
	u.RawPath, u.RawQuery = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("client: %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256(payload)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), service, c.region, time.Now().UTC()); err != nil {
		return fmt.Errorf("client: sign %s: %w", target, err)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("client: %s: %w", target, decodeError(resp))
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: %s: decode answer: %w", target, err)
	}
	return nil
}
