package gateway

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's Videos API: a video (Sora's) is a job its upstream runs and
// keeps, with its content once done. A video is made by model, as an
// image is: at the first deployment of the model's route (its group's,
// then its fallbacks') whose circuit lets calls through, the next one
// taking it when that one fails. Its id names that deployment
// (provider.EncodeVideoID: in the answer that made it, in the list, and a
// remix's remixed_from_video_id), so the calls on it (retrieve, delete,
// content, remix) go there under the upstream's id.

var storedVideos = storedObject{noun: "video", collection: "videos", decode: provider.DecodeVideoID,
	api: provider.APIVideos, holds: storesVideos, who: "openai", errAPI: provider.APIResponses}

// defaultVideoModel is the model a video request that names none is made
// by, as OpenAI's API makes it.
const defaultVideoModel = "sora-2"

// storesVideos reports whether d's upstream serves the Videos API:
// OpenAI's own API, or a server that speaks it (the openai provider).
// Azure's video generation is another API.
func storesVideos(d *Deployment) bool {
	return d.Config.Provider == "openai" && stores(d)
}

// videoRoutes adds the Videos API to the mux (route).
func (g *Gateway) videoRoutes(route func(string, ...methodHandler), list func(storedObject) http.Handler) {
	tail := func(s string) func(*http.Request) string { return func(*http.Request) string { return s } }
	route("/videos", methodHandler{http.MethodPost, g.storedHandler(provider.APIVideos, g.makeVideo)}, methodHandler{http.MethodGet, list(storedVideos)})
	video := g.storedCall(storedVideos, tail(""))
	route("/videos/{id}", methodHandler{http.MethodGet, video}, methodHandler{http.MethodDelete, video})
	route("/videos/{id}/content", methodHandler{http.MethodGet, g.storedCall(storedVideos, tail("/content"))})
	route("/videos/{id}/remix", methodHandler{http.MethodPost, g.storedCall(storedVideos, tail("/remix"))})
}

// makeVideo serves POST /v1/videos: a multipart form (the SDKs'), or
// JSON, whose model names the route to make it on.
func (g *Gateway) makeVideo(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	body, ok := g.storedBody(w, r, provider.APIResponses)
	if !ok {
		return nil, http.StatusRequestEntityTooLarge
	}
	req := &provider.Request{Body: body}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") {
		req.ContentType = ct
		fields, _, err := provider.FormFields(body, ct, "input_reference", "model")
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "the video request is not a multipart form breakerd can read: "+err.Error())
			return nil, http.StatusBadRequest
		}
		req.Model = fields["model"]
	} else {
		fields, err := req.Fields()
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "a video request is a multipart form or a JSON object with a prompt")
			return nil, http.StatusBadRequest
		}
		req.Model, _ = provider.JSONString(fields["model"])
	}
	model := cmp.Or(req.Model, defaultVideoModel)
	var scope []*Deployment
	for _, name := range g.aliasGroups(model) {
		for _, d := range g.Route(name) {
			if storesVideos(d) && !slices.Contains(scope, d) {
				scope = append(scope, d)
			}
		}
	}
	if len(scope) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "model_not_found",
			fmt.Sprintf("no deployment of `%s` serves the Videos API (only openai ones do)", model))
		return nil, http.StatusBadRequest
	}
	return g.makeAt(w, storedVideos, "the video", scope, true, func(d *Deployment) (*provider.Response, error) {
		out, err := req.BodyFor(d.Config.Model)
		if err != nil {
			return nil, &provider.Error{Status: http.StatusBadRequest, Message: err.Error()}
		}
		call := provider.StoredCall{Method: http.MethodPost, Path: storedVideos.collection, Query: r.URL.Query(),
			Body: bytes.NewReader(out), ContentType: req.ContentType, Length: int64(len(out))}
		return g.storedCallAt(ctx, storedVideos, d, call, nil)
	})
}
