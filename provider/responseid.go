package provider

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// A response the Responses API stores (store: true, the default) lives
// with the deployment that made it: only that deployment's upstream can
// continue it (previous_response_id), retrieve, cancel or delete it. So
// breakerd hands clients the upstream's id with the deployment's name in
// it, and routes a later call on that id back to the deployment.
//
// The id is LiteLLM's: "resp_" and the base64 of
// "litellm:custom_llm_provider:P;model_id:D;response_id:ID". Ids a LiteLLM
// proxy issued keep routing after a move to breakerd where model_info.id
// names the deployment, as it does in both. breakerd writes the base64 in
// its URL-safe alphabet, unpadded: an id goes in URL paths
// (/v1/responses/{id}), where a client that does not escape it would
// split a "/" of the standard alphabet into two segments. It reads both.
const (
	responseIDPrefix = "resp_"
	idProvider       = "litellm:custom_llm_provider:"
	idDeployment     = ";model_id:"
	idResponse       = ";response_id:"
)

// EncodeResponseID returns the id clients get for the upstream response
// id of deployment, of provider. An id that is already one is returned as
// it is.
func EncodeResponseID(provider, deployment, id string) string {
	if _, _, _, ok := DecodeResponseID(id); ok {
		return id
	}
	return responseIDPrefix + base64.RawURLEncoding.EncodeToString([]byte(idProvider+provider+idDeployment+deployment+idResponse+id))
}

// DecodeResponseID reads an id EncodeResponseID or LiteLLM made (in
// either base64 alphabet, padded or not): the provider, deployment and
// the upstream's own id. ok is false for any other id, an upstream's own
// included.
func DecodeResponseID(s string) (provider, deployment, id string, ok bool) {
	enc, found := strings.CutPrefix(s, responseIDPrefix)
	if !found {
		return "", "", "", false
	}
	enc = strings.TrimRight(enc, "=")
	alphabet := base64.RawStdEncoding
	if strings.ContainsAny(enc, "-_") {
		alphabet = base64.RawURLEncoding
	}
	raw, err := alphabet.DecodeString(enc)
	if err != nil {
		return "", "", "", false
	}
	rest, found := strings.CutPrefix(string(raw), idProvider)
	if !found {
		return "", "", "", false
	}
	provider, rest, found = strings.Cut(rest, idDeployment)
	if !found {
		return "", "", "", false
	}
	deployment, id, found = strings.Cut(rest, idResponse)
	if !found || id == "" {
		return "", "", "", false
	}
	return provider, deployment, id, true
}

// storedIDs rewrites the response ids in a native Responses answer from
// one deployment to the ids clients get (EncodeResponseID).
type storedIDs struct{ provider, deployment string }

// object returns obj, a JSON object, with its top-level "id" encoded when
// it is a response's id (a Response, or a deletion's answer); anything
// else is returned as it is.
func (s storedIDs) object(obj []byte) []byte {
	var id []byte
	if !EachField(obj, func(k, v []byte) {
		if string(k) == "id" {
			id = v
		}
	}) || id == nil {
		return obj
	}
	str, ok := JSONString(id)
	if !ok || !strings.HasPrefix(str, responseIDPrefix) {
		return obj
	}
	v, _ := json.Marshal(EncodeResponseID(s.provider, s.deployment, str))
	if out, ok := SetField(obj, "id", v); ok {
		return out
	}
	return obj
}

// event returns a stream event's data with the response it carries
// ("response": the lifecycle events response.created, .in_progress,
// .completed, ...) under the id clients get.
func (s storedIDs) event(data []byte) []byte {
	var resp []byte
	if !EachField(data, func(k, v []byte) {
		if string(k) == "response" {
			resp = v
		}
	}) || len(resp) == 0 || resp[0] != '{' {
		return data
	}
	if out, ok := SetField(data, "response", s.object(resp)); ok {
		return out
	}
	return data
}
