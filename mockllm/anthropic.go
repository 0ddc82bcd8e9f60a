package mockllm

import "net/http"

// messages is the Anthropic Messages API. It is filled in by the Anthropic
// mode; until then it answers 404 like a server without that API.
func (s *Server) messages(w http.ResponseWriter, r *http.Request, f Faults) {
	s.writeError(w, r, 404, "not_found_error", "this mock does not speak the Anthropic API yet")
}
