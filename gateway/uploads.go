package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's Uploads API: a file too large for one request (up to 8 GB),
// sent in parts of up to 64 MB, then completed into a file of the Files
// API. An upload is made where a file upload would be (the model's
// deployments, x-litellm-model; else a files_settings account, or any
// deployment that stores files), and its id names that deployment
// (provider.EncodeUploadID), so its parts, completion and cancellation go
// there; the file it completes into is named as breakerd names files,
// so batches and vector stores find it.

var storedUploads = storedObject{noun: "upload", collection: "uploads", decode: provider.DecodeUploadID,
	api: provider.APIUploads, holds: storesFiles, who: "openai and azure", errAPI: provider.APIResponses, settings: true}

// maxPartBytes is OpenAI's limit on one part of an upload.
const maxPartBytes = 64 << 20

// uploadRoutes adds the Uploads API to the mux (route).
func (g *Gateway) uploadRoutes(route func(string, ...methodHandler)) {
	post := func(h http.Handler) methodHandler { return methodHandler{http.MethodPost, h} }
	tail := func(s string) func(*http.Request) string { return func(*http.Request) string { return s } }
	route("/uploads", post(g.storedHandler(provider.APIUploads, g.makeUpload)))
	route("/uploads/{id}/parts", post(g.storedHandler(provider.APIUploads, g.uploadPart)))
	route("/uploads/{id}/complete", post(g.storedCall(storedUploads, tail("/complete"))))
	route("/uploads/{id}/cancel", post(g.storedCall(storedUploads, tail("/cancel"))))
}

// makeUpload serves POST /v1/uploads: at the first deployment in scope
// (as for a file's upload) that takes it.
func (g *Gateway) makeUpload(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	body, ok := g.storedBody(w, r, storedUploads.errAPI)
	if !ok {
		return nil, http.StatusRequestEntityTooLarge
	}
	scope, status := g.scope(w, r, storedUploads, r.Header.Get(modelHeader))
	if scope == nil {
		return nil, status
	}
	return g.makeAt(w, storedUploads, "the upload", scope, true, func(d *Deployment) (*provider.Response, error) {
		return g.callStored(ctx, storedUploads, http.MethodPost, d, storedUploads.collection, r.URL.Query(), body)
	})
}

// uploadPart serves POST /v1/uploads/{id}/parts: the client's multipart
// form, relayed as it arrives to the upload's deployment.
func (g *Gateway) uploadPart(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	id := r.PathValue("id")
	d, upstreamID, msg := g.storedAt(storedUploads, id)
	if d == nil {
		writeAPIError(w, storedUploads.errAPI, http.StatusNotFound, "invalid_request_error", "", msg)
		return nil, http.StatusNotFound
	}
	raw := &pacedBody{r: http.MaxBytesReader(w, r.Body, max(g.cfg.Server.MaxBodyBytes, maxPartBytes+1<<20)), // the form's own bytes too
		rc: http.NewResponseController(w), timeout: g.cfg.Server.BodyReadTimeout}
	body := &uploadBody{r: raw}
	resp, err := g.storedCallAt(ctx, storedUploads, d, provider.StoredCall{Method: http.MethodPost,
		Path: storedUploads.collection + "/" + url.PathEscape(upstreamID) + "/parts", Query: r.URL.Query(),
		ContentType: r.Header.Get("Content-Type"), Length: r.ContentLength, Body: body}, body)
	if err != nil {
		return d, g.writeStoredError(w, storedUploads.errAPI, err, d, fmt.Sprintf("upload '%s'", id), upstreamID, id)
	}
	writeStored(w, d, resp)
	return d, http.StatusOK
}
