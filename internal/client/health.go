package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxHealthBody bounds how much of /healthz Health reads.
const maxHealthBody = 1 << 20

// Health fetches the server's /healthz document into v and returns the
// HTTP status: 200 for a healthy or degraded-but-serving node, 503 when
// its store does not answer (the document then says why). An error means
// no document was read.
func (c *Client) Health(ctx context.Context, v any) (int, error) {
	u := *c.endpoint
	u.Path = strings.TrimRight(c.endpoint.Path, "/") + "/healthz"
	u.RawPath, u.RawQuery = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("client: GET /healthz: %w", err)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("client: GET /healthz: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("client: GET /healthz: read: %w", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("client: GET /healthz: status %d, not a health document: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}
