package admin

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/breaker"
)

// Whatever path a caller posts to, the admin API answers 200, 400, 401 or
// 404, changes only a breaker it names with an action it knows, and never
// panics.
func FuzzAdminPaths(f *testing.F) {
	for _, p := range []string{"g/openai/m:chat/open", "g/openai/m:chat/reset", "nope/open", "g/openai/m:chat/", "/", "//open",
		"g/openai/m:chat/explode", "..%2f..%2fopen", "g/openai/m:chat/open?x=1"} {
		f.Add(p, true)
	}
	const token = "fuzz-admin-token-0123456789"
	f.Fuzz(func(t *testing.T, path string, auth bool) {
		reg := breaker.NewRegistry(breaker.Settings{})
		b := reg.GetOrCreate("g/openai/m:chat", nil)
		h := New(reg, token, slog.New(slog.DiscardHandler)).Handler()
		req, err := http.NewRequest(http.MethodPost, "http://x/admin/breakers/"+path, nil)
		if err != nil {
			return // not a URL a client could send
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !slices.Contains([]int{200, 301, 307, 308, 400, 401, 404, 405}, rec.Code) { // 3xx: ServeMux cleaning the path
			t.Fatalf("POST %q: status %d", path, rec.Code)
		}
		if b.State() != breaker.Closed && (!auth || !strings.HasPrefix(req.URL.Path, "/admin/breakers/g/openai/m:chat/")) {
			t.Fatalf("POST %q moved the breaker to %s", path, b.State())
		}
	})
}
