package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
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
// content, a remix, an edit, an extension) go there under the upstream's
// id.

var storedVideos = storedObject{noun: "video", collection: "videos", decode: provider.DecodeVideoID,
	api: provider.APIVideos, holds: storesVideos, who: "openai", errAPI: provider.APIResponses, judged: true}

// defaultVideoModel is the model a video request that names none is made
// by, as OpenAI's API makes it.
const defaultVideoModel = "sora-2"

// storesVideos reports whether d's upstream serves the Videos API: a
// deployment of a video model (LiteLLM's mode video_generation, or a Sora
// by name) at OpenAI's own API or a server that speaks it (the openai
// provider; Azure's video generation is another API). Its calls count
// toward its videos circuit.
func storesVideos(d *Deployment) bool {
	_, ok := d.prov.(provider.StoredResponses)
	return ok && d.Config.Provider == "openai" && d.Breakers[provider.Videos] != nil
}

// videoRoutes adds the Videos API to the mux (route).
func (g *Gateway) videoRoutes(route func(string, ...methodHandler), list func(storedObject) http.Handler) {
	tail := func(s string) func(*http.Request) string { return func(*http.Request) string { return s } }
	route("/videos", methodHandler{http.MethodPost, g.storedHandler(provider.APIVideos, g.makeVideo)}, methodHandler{http.MethodGet, list(storedVideos)})
	video := g.storedCall(storedVideos, tail(""))
	edits, extensions := g.storedHandler(provider.APIVideos, g.videoFrom("edits")), g.storedHandler(provider.APIVideos, g.videoFrom("extensions"))
	// POST /videos/edits and /videos/extensions share the path of a
	// video's own calls (GET and DELETE /videos/{id}).
	from := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "edits":
			edits(w, r)
		case "extensions":
			extensions(w, r)
		default:
			writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", "a video takes GET and DELETE; POST /v1/videos/edits and /v1/videos/extensions make one from another")
		}
	})
	route("/videos/{id}", methodHandler{http.MethodGet, video}, methodHandler{http.MethodDelete, video}, methodHandler{http.MethodPost, from})
	route("/videos/{id}/content", methodHandler{http.MethodGet, g.storedCall(storedVideos, tail("/content"))})
	route("/videos/{id}/remix", methodHandler{http.MethodPost, g.storedCall(storedVideos, tail("/remix"))})
}

// videoFrom serves POST /v1/videos/edits and /v1/videos/extensions (sub):
// a new video made from a done one. One named by its id (the SDKs' form
// field "video[id]", or JSON's video.id) is at the deployment that made
// it, where the new one is made too, under the upstream's id; an uploaded
// one goes to the first deployment that serves the Videos API and takes
// it.
func (g *Gateway) videoFrom(sub string) func(context.Context, http.ResponseWriter, *http.Request) (*Deployment, int) {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
		body, ok := g.storedBody(w, r, provider.APIResponses)
		if !ok {
			return nil, http.StatusRequestEntityTooLarge
		}
		ct := r.Header.Get("Content-Type")
		var id string
		if strings.HasPrefix(ct, "multipart/") {
			fields, _, err := provider.FormFields(body, ct, "video", "video[id]")
			if err != nil {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "", "the video request is not a multipart form breakerd can read: "+err.Error())
				return nil, http.StatusBadRequest
			}
			id = fields["video[id]"]
		} else {
			var ref struct {
				Video struct {
					ID string `json:"id"`
				} `json:"video"`
			}
			_ = json.Unmarshal(body, &ref)
			id, ct = ref.Video.ID, ""
		}
		call := func(d *Deployment, body []byte) (*provider.Response, error) {
			return g.storedCallAt(ctx, storedVideos, d, provider.StoredCall{Method: http.MethodPost, Path: storedVideos.collection + "/" + sub,
				Query: r.URL.Query(), Body: bytes.NewReader(body), ContentType: ct, Length: int64(len(body))}, nil)
		}
		if id == "" { // an uploaded video: at the first deployment that takes it
			scope := g.holding(storedVideos)
			if len(scope) == 0 {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "", "no deployment serves the Videos API (only openai ones do)")
				return nil, http.StatusBadRequest
			}
			return g.makeAt(w, storedVideos, "the video", scope, true, func(d *Deployment) (*provider.Response, error) { return call(d, body) })
		}
		d, upstreamID, msg := g.storedAt(storedVideos, id)
		if d == nil {
			writeError(w, http.StatusNotFound, "invalid_request_error", "", msg)
			return nil, http.StatusNotFound
		}
		var err error
		if ct != "" {
			body, err = provider.MultipartWithField(body, ct, "video[id]", upstreamID)
		} else {
			v, _ := json.Marshal(map[string]string{"id": upstreamID})
			if out, ok := provider.SetField(body, "video", v); ok {
				body = out
			}
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "the video request is not a multipart form breakerd can read: "+err.Error())
			return d, http.StatusBadRequest
		}
		resp, err := call(d, body)
		if err != nil {
			return d, g.writeStoredError(w, storedVideos.errAPI, err, d, fmt.Sprintf("video '%s'", id), upstreamID, id)
		}
		writeStored(w, d, resp)
		return d, http.StatusOK
	}
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
	return g.makeVideoAt(w, cmp.Or(req.Model, defaultVideoModel), func(d *Deployment) (*provider.Response, error) {
		out, err := req.BodyFor(d.Config.Model)
		if err != nil {
			return nil, &provider.Error{Status: http.StatusBadRequest, Message: err.Error()}
		}
		call := provider.StoredCall{Method: http.MethodPost, Path: storedVideos.collection, Query: r.URL.Query(),
			Body: bytes.NewReader(out), ContentType: req.ContentType, Length: int64(len(out))}
		return g.storedCallAt(ctx, storedVideos, d, call, nil)
	})
}

// makeVideoAt makes a video (call makes it at a deployment) at the first
// deployment of model's route that serves the Videos API and takes it.
func (g *Gateway) makeVideoAt(w http.ResponseWriter, model string, call func(*Deployment) (*provider.Response, error)) (*Deployment, int) {
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
	return g.makeAt(w, storedVideos, "the video", scope, true, call)
}
