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
	idProvider   = "litellm:custom_llm_provider:"
	idDeployment = ";model_id:"
)

// storedKind is a kind of object an upstream stores: its ids' prefix, and
// the key of the upstream's own id in the encoded text.
type storedKind struct{ prefix, key string }

var (
	responseKind     = storedKind{"resp_", ";response_id:"}
	conversationKind = storedKind{"conv_", ";conversation_id:"}
)

// EncodeResponseID returns the id clients get for the upstream response
// id of deployment, of provider. An id that is already one is returned as
// it is.
func EncodeResponseID(provider, deployment, id string) string {
	return responseKind.encode(provider, deployment, id)
}

// DecodeResponseID reads an id EncodeResponseID or LiteLLM made (in
// either base64 alphabet, padded or not): the provider, deployment and
// the upstream's own id. ok is false for any other id, an upstream's own
// included.
func DecodeResponseID(s string) (provider, deployment, id string, ok bool) {
	return responseKind.decode(s)
}

// EncodeConversationID and DecodeConversationID are EncodeResponseID and
// DecodeResponseID for the Conversations API's conversations ("conv_").
func EncodeConversationID(provider, deployment, id string) string {
	return conversationKind.encode(provider, deployment, id)
}

// DecodeConversationID reads an id EncodeConversationID made.
func DecodeConversationID(s string) (provider, deployment, id string, ok bool) {
	return conversationKind.decode(s)
}

func (k storedKind) encode(provider, deployment, id string) string {
	if _, _, _, ok := k.decode(id); ok {
		return id
	}
	return k.prefix + base64.RawURLEncoding.EncodeToString([]byte(idProvider+provider+idDeployment+deployment+k.key+id))
}

func (k storedKind) decode(s string) (provider, deployment, id string, ok bool) {
	enc, found := strings.CutPrefix(s, k.prefix)
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
	deployment, id, found = strings.Cut(rest, k.key)
	if !found || id == "" {
		return "", "", "", false
	}
	return provider, deployment, id, true
}

// storedIDs rewrites the response ids in a native Responses answer from
// one deployment to the ids clients get (EncodeResponseID).
type storedIDs struct{ provider, deployment string }

// object returns obj, a JSON object, with its top-level "id" encoded when
// it is a response's or a conversation's (a Response, a Conversation, or
// a deletion's answer), and a Response's "conversation" too; anything
// else is returned as it is.
func (s storedIDs) object(obj []byte) []byte {
	var id, conv []byte
	if !EachField(obj, func(k, v []byte) {
		switch string(k) {
		case "id":
			id = v
		case "conversation":
			conv = v
		}
	}) {
		return obj
	}
	if len(id) > 0 {
		if str, ok := JSONString(id); ok {
			for _, kind := range []storedKind{responseKind, conversationKind} {
				if strings.HasPrefix(str, kind.prefix) {
					v, _ := json.Marshal(kind.encode(s.provider, s.deployment, str))
					if out, ok := SetField(obj, "id", v); ok {
						obj = out
					}
				}
			}
		}
	}
	if len(conv) > 0 && conv[0] == '{' { // {"id": "conv_..."}
		if out, ok := SetField(obj, "conversation", s.object(conv)); ok {
			obj = out
		}
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
