package store

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// createTry bounds one attempt at creating a replicated object in a
// cluster. When several nodes create the same stream at once (every node
// ensures the objects it uses at start, and the first Event for a
// function reaches several nodes), the meta leader creates it once and
// the other requests can go unanswered; the stream exists a moment later,
// and asking again gets it. So a clustered store asks again every
// createTry, rather than wait out the whole deadline for an answer that
// does not come.
const createTry = 3 * time.Second

// retryCreate runs create, and in a cluster again after each attempt
// that got no answer within createTry, until ctx (or, when ctx has no
// deadline, clusterAPITimeout) ends.
func retryCreate[T any](ctx context.Context, clustered bool, create func(context.Context) (T, error)) (T, error) {
	if !clustered {
		return create(ctx)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, clusterAPITimeout)
		defer cancel()
	}
	for {
		tctx, cancel := context.WithTimeout(ctx, createTry)
		v, err := create(tctx)
		cancel()
		unanswered := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
		if err == nil || !unanswered || ctx.Err() != nil {
			return v, err
		}
	}
}
