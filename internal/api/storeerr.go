package api

import (
	"github.com/updraft/updraft/internal/lambdaerr"
)

// storeUnavailableMessage is what a client is told when a request needed
// a store write the store could not take (a full disk, JetStream out of
// resources): the reason itself is the operator's, on /healthz and in the
// server's log.
const storeUnavailableMessage = "The service cannot store data right now. Retry later."

// errStoreUnavailable is Lambda's answer to a write the store refused:
// ServiceException, 500, as Lambda answers its own failures.
func errStoreUnavailable(cause error) *lambdaerr.Error {
	return lambdaerr.Service(storeUnavailableMessage).WithCause(cause)
}
