package gateway

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's Vector Stores API (the stores the Responses API's file_search
// tool searches), as LiteLLM's proxy serves it: a store lives at the
// deployment whose upstream made it, with the files it was made from, so
// its id names that deployment (as a file's does) and the calls on it,
// its files and searches, and the Responses requests that search it go
// there, with the upstream's own ids of the store and its files.

var storedVectorStores = storedObject{noun: "vector store", collection: "vector_stores", decode: provider.DecodeVectorStoreID,
	api: provider.APIVectorStores, holds: stores, who: "openai and azure", errAPI: provider.APIResponses, settings: true}

// makeWithFiles serves the POST that makes one of obj's objects (a vector
// store, a container). One made from files (file_ids) is made where they
// are; one made empty at the first deployment that stores them (in config
// order, files_settings' accounts last) whose circuit lets calls through,
// the next one taking it when that one fails.
func (g *Gateway) makeWithFiles(obj storedObject) func(context.Context, http.ResponseWriter, *http.Request) (*Deployment, int) {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
		body, ok := g.storedBody(w, r, provider.APIResponses)
		if !ok {
			return nil, http.StatusRequestEntityTooLarge
		}
		body, at, err := provider.ReferencedFiles(body)
		if err != nil {
			writeAPIError(w, provider.APIResponses, http.StatusBadRequest, "invalid_request_error", "", err.Error())
			return nil, http.StatusBadRequest
		}
		scope := g.holding(obj)
		if at != "" {
			scope = slices.DeleteFunc(scope, func(d *Deployment) bool { return d.Config.Name != at })
		}
		if len(scope) == 0 {
			msg := "no deployment in breakerd's config stores " + obj.noun + "s (only " + obj.who + " ones do)"
			if at != "" {
				msg = "the " + obj.noun + "'s files are at deployment " + at + ", which breakerd's config no longer has"
			}
			writeAPIError(w, provider.APIResponses, http.StatusNotFound, "invalid_request_error", "", msg)
			return nil, http.StatusNotFound
		}
		return g.makeAt(w, obj, "the "+obj.noun, scope, at == "", func(d *Deployment) (*provider.Response, error) {
			return g.callStored(ctx, obj, http.MethodPost, d, obj.collection, r.URL.Query(), body)
		})
	}
}

// vectorStoreRoutes adds the Vector Stores API to the mux (route).
func (g *Gateway) vectorStoreRoutes(route func(string, ...methodHandler), list func(storedObject) http.Handler) {
	at := func(sub func(*http.Request) string) http.Handler { return g.storedCall(storedVectorStores, sub) }
	post := func(h http.Handler) methodHandler { return methodHandler{http.MethodPost, h} }
	get := func(h http.Handler) methodHandler { return methodHandler{http.MethodGet, h} }
	del := func(h http.Handler) methodHandler { return methodHandler{http.MethodDelete, h} }
	tail := func(s string) func(*http.Request) string { return func(*http.Request) string { return s } }
	// A store's file, by the id breakerd gave the file.
	file := func(s string) func(*http.Request) string {
		return func(r *http.Request) string {
			id := r.PathValue("file")
			if _, _, own, ok := provider.DecodeFileID(id); ok {
				id = own
			}
			return "/files/" + url.PathEscape(id) + s
		}
	}
	batch := func(s string) func(*http.Request) string {
		return func(r *http.Request) string { return "/file_batches/" + url.PathEscape(r.PathValue("batch")) + s }
	}
	store := at(tail(""))
	route("/vector_stores", post(g.storedHandler(provider.APIVectorStores, g.makeWithFiles(storedVectorStores))), get(list(storedVectorStores)))
	route("/vector_stores/{id}", get(store), post(store), del(store))
	route("/vector_stores/{id}/search", post(at(tail("/search"))))
	files := at(tail("/files"))
	route("/vector_stores/{id}/files", get(files), post(files))
	one := at(file(""))
	route("/vector_stores/{id}/files/{file}", get(one), post(one), del(one))
	route("/vector_stores/{id}/files/{file}/content", get(at(file("/content"))))
	route("/vector_stores/{id}/file_batches", post(at(tail("/file_batches"))))
	route("/vector_stores/{id}/file_batches/{batch}", get(at(batch(""))))
	route("/vector_stores/{id}/file_batches/{batch}/cancel", post(at(batch("/cancel"))))
	route("/vector_stores/{id}/file_batches/{batch}/files", get(at(batch("/files"))))
}
