package registry

import (
	"context"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// minUnreserved is the concurrency Lambda keeps for functions without a
// reservation: 100 ("Lambda function scaling", reserved concurrency), or
// a tenth of a smaller account limit so that small test limits still
// allow reservations.
func (r *Registry) minUnreserved() int {
	return min(minUnreservedMargin, r.cfg.AccountConcurrency/10)
}

// PutFunctionConcurrency reserves n concurrent executions for a function
// (0 stops it from running). The reservations of all functions together
// must leave the account's minimum unreserved concurrency.
func (r *Registry) PutFunctionConcurrency(ctx context.Context, name string, n int) (int, error) {
	fn, err := r.parseFunctionOnly(name)
	if err != nil {
		return 0, err
	}
	// A function that does not exist is not found (as ":$LATEST") before
	// the value is checked (recorded: test_function_concurrency_exceptions,
	// put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency).
	if _, err := r.readFunction(ctx, fn); err != nil {
		if lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
			return 0, r.errQualifiedNotFound(fn, VersionLatest)
		}
		return 0, err
	}
	if n < 0 {
		return 0, lambdaerr.Validation("1 validation error detected: Value '%d' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0", n)
	}
	_, err = r.updateFunction(ctx, fn, func(rec *functionRecord) error {
		floor := r.minUnreserved()
		if r.reservedByOthers(fn)+n > r.cfg.AccountConcurrency-floor {
			return lambdaerr.InvalidParameterValue("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", floor)
		}
		rec.Reserved = &n
		return nil
	})
	if err != nil {
		return 0, err
	}
	r.logger.Info("reserved concurrency set", "function", fn, "reserved", n)
	return n, nil
}

// reservedByOthers sums the reservations of every function but fn.
func (r *Registry) reservedByOthers(fn string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	total := 0
	for name, f := range r.view.fns {
		if name != fn && f.rec != nil && f.rec.Reserved != nil {
			total += *f.rec.Reserved
		}
	}
	return total
}

// GetFunctionConcurrency returns a function's reservation, nil if none.
func (r *Registry) GetFunctionConcurrency(ctx context.Context, name string) (*int, error) {
	fn, err := r.parseFunctionOnly(name)
	if err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f := r.view.live(fn)
	if f == nil {
		return nil, r.errFunctionNotFound(fn)
	}
	if f.rec.Reserved == nil {
		return nil, nil
	}
	n := *f.rec.Reserved
	return &n, nil
}

// DeleteFunctionConcurrency removes a function's reservation.
func (r *Registry) DeleteFunctionConcurrency(ctx context.Context, name string) error {
	fn, err := r.parseFunctionOnly(name)
	if err != nil {
		return err
	}
	_, err = r.updateFunction(ctx, fn, func(rec *functionRecord) error {
		rec.Reserved = nil
		return nil
	})
	if err == nil {
		r.logger.Info("reserved concurrency removed", "function", fn)
	}
	return err
}
