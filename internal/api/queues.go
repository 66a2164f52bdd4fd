package api

// QueueService is the built-in queue store (internal/queue).
type QueueService interface{}

// queueRoutes registers the built-in queue operations.
func (s *Server) queueRoutes(h route) {}
