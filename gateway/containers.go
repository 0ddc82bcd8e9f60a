package gateway

import (
	"net/http"
	"net/url"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's Containers API: where the Responses API's code interpreter
// runs, and keeps the files it makes. A container lives at the deployment
// whose upstream made it (by the Containers API, or by a Responses call
// whose code_interpreter asked for one), so its id names that deployment
// (provider.EncodeContainerID: in the answer that made it, and wherever an
// answer names it, a code_interpreter_call's or a container file
// citation's container_id), and the calls on it and its files, and the
// Responses requests that run in it, go there under the upstream's ids.

var storedContainers = storedObject{noun: "container", collection: "containers", decode: provider.DecodeContainerID,
	api: provider.APIContainers, holds: stores, who: "openai and azure", errAPI: provider.APIResponses}

// containerRoutes adds the Containers API to the mux (route).
func (g *Gateway) containerRoutes(route func(string, ...methodHandler), list func(storedObject) http.Handler) {
	at := func(sub func(*http.Request) string) http.Handler { return g.storedCall(storedContainers, sub) }
	post := func(h http.Handler) methodHandler { return methodHandler{http.MethodPost, h} }
	get := func(h http.Handler) methodHandler { return methodHandler{http.MethodGet, h} }
	del := func(h http.Handler) methodHandler { return methodHandler{http.MethodDelete, h} }
	// A container's file, by the upstream's id (cfile_...): it is the
	// container's own, reached through it.
	file := func(s string) func(*http.Request) string {
		return func(r *http.Request) string { return "/files/" + url.PathEscape(r.PathValue("file")) + s }
	}
	tail := func(s string) func(*http.Request) string { return func(*http.Request) string { return s } }
	route("/containers", post(g.storedHandler(provider.APIContainers, g.makeWithFiles(storedContainers))), get(list(storedContainers)))
	container := at(tail(""))
	route("/containers/{id}", get(container), del(container))
	files := at(tail("/files"))
	route("/containers/{id}/files", get(files), post(files))
	one := at(file(""))
	route("/containers/{id}/files/{file}", get(one), del(one))
	route("/containers/{id}/files/{file}/content", get(at(file("/content"))))
}
