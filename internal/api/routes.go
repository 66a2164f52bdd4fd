package api

import (
	"net/http"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// routes registers every operation. Lambda's path dates differ between
// operations on one resource (concurrency is PUT 2017-10-31 but GET
// 2019-09-30); each route is written as the SDK models send it, and List
// and Create accept the trailing slash the docs show.
func (s *Server) routes(mux *http.ServeMux) {
	var h route = func(pattern string, fn handlerFunc) { mux.HandleFunc(pattern, s.wrap(fn)) }

	h("POST /2015-03-31/functions", s.createFunction)
	h("POST /2015-03-31/functions/{$}", s.createFunction)
	h("GET /2015-03-31/functions", s.listFunctions)
	h("GET /2015-03-31/functions/{$}", s.listFunctions)
	h("GET /2015-03-31/functions/{name}", s.getFunction)
	h("DELETE /2015-03-31/functions/{name}", s.deleteFunction)
	h("GET /2015-03-31/functions/{name}/configuration", s.getFunctionConfiguration)
	h("PUT /2015-03-31/functions/{name}/configuration", s.updateFunctionConfiguration)
	h("PUT /2015-03-31/functions/{name}/code", s.updateFunctionCode)
	h("POST /2015-03-31/functions/{name}/versions", s.publishVersion)
	h("GET /2015-03-31/functions/{name}/versions", s.listVersions)
	h("POST /2015-03-31/functions/{name}/aliases", s.createAlias)
	h("GET /2015-03-31/functions/{name}/aliases", s.listAliases)
	h("GET /2015-03-31/functions/{name}/aliases/{alias}", s.getAlias)
	h("PUT /2015-03-31/functions/{name}/aliases/{alias}", s.updateAlias)
	h("DELETE /2015-03-31/functions/{name}/aliases/{alias}", s.deleteAlias)
	h("PUT /2017-10-31/functions/{name}/concurrency", s.putConcurrency)
	h("DELETE /2017-10-31/functions/{name}/concurrency", s.deleteConcurrency)
	h("GET /2019-09-30/functions/{name}/concurrency", s.getConcurrency)

	h("POST /2015-03-31/functions/{name}/invocations", s.invoke)
	h("POST /2021-11-15/functions/{name}/response-streaming-invocations", s.invokeStream)
	h("POST /2014-11-13/functions/{name}/invoke-async/", s.invokeAsync)
	h("POST /2014-11-13/functions/{name}/invoke-async", s.invokeAsync)

	s.eventInvokeConfigRoutes(h)
	s.layerRoutes(h)
	s.asyncRoutes(h)
	s.queueRoutes(h)
	s.esmRoutes(h)
	s.policyRoutes(h)
	s.httpProxyRoutes(h)

	h("GET /updraft/v1/code/{sha}", s.getCode)
	h("GET /updraft/v1/functions/{name}/logs", s.getLogs)

	// Kinesis's and Step Functions' JSON protocol post every operation
	// to "/", and so do IAM's and STS's query protocol (a form naming the Version).
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) {
		if isKinesis(r) {
			s.kinesis(w, r)
			return
		}
		if isStepFunctions(r) {
			s.stepFunctions(w, r)
			return
		}
		if isDynamoDB(r) {
			s.dynamodb(w, r)
			return
		}
		if h := s.queryService(r); h != nil {
			h.ServeHTTP(w, r)
			return
		}
		s.writeError(w, r, lambdaerr.UnknownOperation("No operation matches %s %s.", r.Method, r.URL.Path))
	})
	h("/", func(w http.ResponseWriter, r *http.Request) error {
		return lambdaerr.UnknownOperation("No operation matches %s %s.", r.Method, r.URL.Path)
	})
}
