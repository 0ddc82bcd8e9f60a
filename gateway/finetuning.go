package gateway

import (
	"net/http"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's fine-tuning API: a job trains at the deployment (or
// files_settings account) where its training file is, so it is made
// there (the files' ids name it), its id names it
// (provider.EncodeFineTuningJobID), and its retrieval, cancellation,
// pause, resumption, events and checkpoints go there; its files (training,
// validation, results) are named as breakerd names files. The list spans
// the deployments that store files.

var storedFineTuning = storedObject{noun: "fine-tuning job", collection: "fine_tuning/jobs", decode: provider.DecodeFineTuningJobID,
	api: provider.APIFineTuning, holds: storesFiles, who: "openai and azure", errAPI: provider.APIResponses, settings: true}

// fineTuningRoutes adds the fine-tuning API to the mux (route).
func (g *Gateway) fineTuningRoutes(route func(string, ...methodHandler), list func(storedObject) http.Handler) {
	post := func(h http.Handler) methodHandler { return methodHandler{http.MethodPost, h} }
	get := func(h http.Handler) methodHandler { return methodHandler{http.MethodGet, h} }
	at := func(s string) http.Handler {
		return g.storedCall(storedFineTuning, func(*http.Request) string { return s })
	}
	route("/fine_tuning/jobs", post(g.storedHandler(provider.APIFineTuning, g.makeWithFiles(storedFineTuning))), get(list(storedFineTuning)))
	route("/fine_tuning/jobs/{id}", get(at("")))
	for _, action := range []string{"cancel", "pause", "resume"} {
		route("/fine_tuning/jobs/{id}/"+action, post(at("/"+action)))
	}
	route("/fine_tuning/jobs/{id}/events", get(at("/events")))
	route("/fine_tuning/jobs/{id}/checkpoints", get(at("/checkpoints")))
}
