package api

// eventInvokeConfigRoutes registers the FunctionEventInvokeConfig operations.
func (s *Server) eventInvokeConfigRoutes(h route) {}
