package api

// asyncRoutes registers updraft's asynchronous endpoints.
func (s *Server) asyncRoutes(h route) {}
