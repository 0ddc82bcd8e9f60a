package provider

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
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
	fileKind         = storedKind{"file-", ";file_id:"}
	batchKind        = storedKind{"batch_", ";batch_id:"}
	messageBatchKind = storedKind{"msgbatch_", ";message_batch_id:"}
	// anthropicFileKind is Anthropic's Files API's files ("file_").
	anthropicFileKind = storedKind{"file_", ";file_id:"}
	// vectorStoreKind is the Vector Stores API's stores ("vs_").
	vectorStoreKind = storedKind{"vs_", ";vector_store_id:"}
	// containerKind is the Containers API's containers ("cntr_"), where
	// the Responses API's code interpreter runs and keeps its files.
	containerKind = storedKind{"cntr_", ";container_id:"}
	// chatCompletionKind is a chat completion stored with store: true
	// ("chatcmpl-").
	chatCompletionKind = storedKind{"chatcmpl-", ";chat_completion_id:"}
	// uploadKind is the Uploads API's uploads ("upload_"), a large file
	// sent in parts.
	uploadKind = storedKind{"upload_", ";upload_id:"}
	// fineTuningKind is the fine-tuning API's jobs ("ftjob-").
	fineTuningKind = storedKind{"ftjob-", ";fine_tuning_job_id:"}
	// videoKind is the Videos API's video jobs ("video_").
	videoKind = storedKind{"video_", ";video_id:"}
	// storedKinds are the kinds an object's "id" may be of.
	storedKinds = []storedKind{responseKind, conversationKind, fileKind, batchKind, messageBatchKind, anthropicFileKind, vectorStoreKind, containerKind,
		chatCompletionKind, uploadKind, fineTuningKind, videoKind}
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

// EncodeFileID and DecodeFileID are EncodeResponseID and DecodeResponseID
// for the Files API's files ("file-"), a batch's input and output
// included.
func EncodeFileID(provider, deployment, id string) string {
	return fileKind.encode(provider, deployment, id)
}

// DecodeFileID reads an id EncodeFileID made.
func DecodeFileID(s string) (provider, deployment, id string, ok bool) {
	return fileKind.decode(s)
}

// EncodeVectorStoreID and DecodeVectorStoreID are EncodeResponseID and
// DecodeResponseID for the Vector Stores API's stores ("vs_").
func EncodeVectorStoreID(provider, deployment, id string) string {
	return vectorStoreKind.encode(provider, deployment, id)
}

// DecodeVectorStoreID reads an id EncodeVectorStoreID made.
func DecodeVectorStoreID(s string) (provider, deployment, id string, ok bool) {
	return vectorStoreKind.decode(s)
}

// EncodeContainerID and DecodeContainerID are EncodeResponseID and
// DecodeResponseID for the Containers API's containers ("cntr_").
func EncodeContainerID(provider, deployment, id string) string {
	return containerKind.encode(provider, deployment, id)
}

// DecodeContainerID reads an id EncodeContainerID made.
func DecodeContainerID(s string) (provider, deployment, id string, ok bool) {
	return containerKind.decode(s)
}

// EncodeFineTuningJobID and DecodeFineTuningJobID are EncodeResponseID
// and DecodeResponseID for the fine-tuning API's jobs ("ftjob-").
func EncodeFineTuningJobID(provider, deployment, id string) string {
	return fineTuningKind.encode(provider, deployment, id)
}

// DecodeFineTuningJobID reads an id EncodeFineTuningJobID made.
func DecodeFineTuningJobID(s string) (provider, deployment, id string, ok bool) {
	return fineTuningKind.decode(s)
}

// EncodeVideoID and DecodeVideoID are EncodeResponseID and
// DecodeResponseID for the Videos API's videos ("video_").
func EncodeVideoID(provider, deployment, id string) string {
	return videoKind.encode(provider, deployment, id)
}

// DecodeVideoID reads an id EncodeVideoID made.
func DecodeVideoID(s string) (provider, deployment, id string, ok bool) {
	return videoKind.decode(s)
}

// EncodeUploadID and DecodeUploadID are EncodeResponseID and
// DecodeResponseID for the Uploads API's uploads ("upload_").
func EncodeUploadID(provider, deployment, id string) string {
	return uploadKind.encode(provider, deployment, id)
}

// DecodeUploadID reads an id EncodeUploadID made.
func DecodeUploadID(s string) (provider, deployment, id string, ok bool) {
	return uploadKind.decode(s)
}

// EncodeChatCompletionID and DecodeChatCompletionID are EncodeResponseID
// and DecodeResponseID for chat completions stored with store: true
// ("chatcmpl-"), which the stored chat completions API retrieves,
// updates, lists and deletes.
func EncodeChatCompletionID(provider, deployment, id string) string {
	return chatCompletionKind.encode(provider, deployment, id)
}

// DecodeChatCompletionID reads an id EncodeChatCompletionID made.
func DecodeChatCompletionID(s string) (provider, deployment, id string, ok bool) {
	return chatCompletionKind.decode(s)
}

// referenceMarks begin every id breakerd makes of what a request may use:
// a file, OpenAI's ("file-") or Anthropic's ("file_"), and a vector
// store ("vs_"). Each is the prefix and the base64 of LiteLLM's text up
// to its provider (27 bytes, 36 characters, a whole number of base64's
// groups, so the same for every id).
var referenceMarks = []struct {
	mark []byte
	kind storedKind
}{
	{[]byte(`"` + fileKind.prefix + base64.RawURLEncoding.EncodeToString([]byte(idProvider[:27]))), fileKind},
	{[]byte(`"` + anthropicFileKind.prefix + base64.RawURLEncoding.EncodeToString([]byte(idProvider[:27]))), anthropicFileKind},
	{[]byte(`"` + vectorStoreKind.prefix + base64.RawURLEncoding.EncodeToString([]byte(idProvider[:27]))), vectorStoreKind},
	{[]byte(`"` + containerKind.prefix + base64.RawURLEncoding.EncodeToString([]byte(idProvider[:27]))), containerKind},
}

// ReferencedFiles returns a request (JSON: a chat completion's, a
// Responses request, a Messages request, a vector store's) with each id
// breakerd gave of a file (a chat file part's or an input_file's file_id,
// a Messages document's or image's file source, a vector store's
// file_ids) or of a vector store (file_search's vector_store_ids)
// replaced by the upstream's own, and the deployment that stores them;
// "" when the request names none. Ids of two deployments are an error:
// no one upstream has both.
func ReferencedFiles(body []byte) ([]byte, string, error) {
	var at string
	for _, m := range referenceMarks {
		if !bytes.Contains(body, m.mark) {
			continue
		}
		var out []byte
		rest := body
		for {
			i := bytes.Index(rest, m.mark)
			if i < 0 {
				break
			}
			end := bytes.IndexByte(rest[i+1:], '"')
			if end < 0 {
				break
			}
			id := string(rest[i+1 : i+1+end])
			_, d, upstream, ok := m.kind.decode(id)
			if !ok {
				out, rest = append(out, rest[:i+1+end]...), rest[i+1+end:]
				continue
			}
			if at != "" && d != at {
				return body, "", fmt.Errorf("the request names files or vector stores kept at deployments %s and %s; one request can use those of one", at, d)
			}
			at = d
			out = append(append(out, rest[:i+1]...), upstream...)
			rest = rest[i+1+end:]
		}
		body = append(out, rest...)
	}
	return body, at, nil
}

// DecodeLiteLLMModelID reads a file's or a batch's id that a LiteLLM
// proxy gave for an upload routed by model (its x-litellm-model): "file-"
// or "batch_" and the base64 of "litellm:ID;model,MODEL" (signed ones go
// on with ";sub,...;sig,..."). It returns the upstream's own id and the
// model; ok is false for any other id. LiteLLM names the model, not the
// deployment: a client that moves from LiteLLM to breakerd keeps its
// files where its model has one deployment that stores them.
func DecodeLiteLLMModelID(s string) (id, model string, ok bool) {
	enc, found := strings.CutPrefix(s, fileKind.prefix)
	if !found {
		if enc, found = strings.CutPrefix(s, batchKind.prefix); !found {
			return "", "", false
		}
	}
	enc = strings.TrimRight(enc, "=")
	alphabet := base64.RawStdEncoding
	if strings.ContainsAny(enc, "-_") {
		alphabet = base64.RawURLEncoding
	}
	raw, err := alphabet.DecodeString(enc)
	if err != nil {
		return "", "", false
	}
	rest, found := strings.CutPrefix(string(raw), "litellm:")
	if !found || strings.HasPrefix(rest, "custom_llm_provider:") {
		return "", "", false // breakerd's own, or not LiteLLM's
	}
	id, model, found = strings.Cut(rest, ";model,")
	model, _, _ = strings.Cut(model, ";")
	if !found || id == "" || model == "" {
		return "", "", false
	}
	return id, model, true
}

// DecodeBatchID reads the id of a batch (the Batch API's, "batch_") that
// breakerd gave a client.
func DecodeBatchID(s string) (provider, deployment, id string, ok bool) {
	return batchKind.decode(s)
}

// DecodeAnthropicFileID reads the id of a file of Anthropic's Files API
// ("file_") that breakerd gave a client.
func DecodeAnthropicFileID(s string) (provider, deployment, id string, ok bool) {
	return anthropicFileKind.decode(s)
}

// DecodeMessageBatchID reads the id of an Anthropic Message Batch
// ("msgbatch_") that breakerd gave a client.
func DecodeMessageBatchID(s string) (provider, deployment, id string, ok bool) {
	return messageBatchKind.decode(s)
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

// object returns obj, a JSON object, with the ids of what the upstream
// stores in it encoded: its top-level "id" when it is a response's, a
// conversation's, a file's or a batch's (the object, or a deletion's
// answer), a Response's "conversation", a batch's files
// (input_file_id, output_file_id, error_file_id), a vector store's file
// or search result's (file_id, vector_store_id), a container's
// (container_id), an upload's part's (upload_id) and a completed upload's
// "file", a fine-tuning job's files (training_file, validation_file,
// result_files) and a checkpoint's job (fine_tuning_job_id), a video's
// (its id, and remixed_from_video_id), and in a
// list each of its "data" and its first_id and last_id.
// Anything else is returned as it is.
func (s storedIDs) object(obj []byte) []byte {
	// The keys whose values may be ids to encode, and whether any kind of
	// id (or only a file's) goes there.
	ids := [...]struct {
		key  string
		only *storedKind // the one kind of id there; nil: any
		v    []byte
	}{{"id", nil, nil}, {"first_id", nil, nil}, {"last_id", nil, nil},
		{"input_file_id", &fileKind, nil}, {"output_file_id", &fileKind, nil}, {"error_file_id", &fileKind, nil},
		{"vector_store_id", &vectorStoreKind, nil}, {"container_id", &containerKind, nil}, {"upload_id", &uploadKind, nil},
		{"training_file", &fileKind, nil}, {"validation_file", &fileKind, nil}, {"fine_tuning_job_id", &fineTuningKind, nil},
		{"remixed_from_video_id", &videoKind, nil}}
	var conv, data, file, results []byte
	if !EachField(obj, func(k, v []byte) {
		switch string(k) {
		case "conversation":
			conv = v
		case "file":
			file = v
		case "result_files": // a fine-tuning job's
			results = v
		case "data":
			data = v
		default:
			for i := range ids {
				if string(k) == ids[i].key {
					ids[i].v = v
				}
			}
		}
	}) {
		return obj
	}
	for _, f := range ids {
		str, ok := JSONString(f.v)
		if !ok {
			continue
		}
		for _, kind := range storedKinds {
			if strings.HasPrefix(str, kind.prefix) && (f.only == nil || kind == *f.only) {
				v, _ := json.Marshal(kind.encode(s.provider, s.deployment, str))
				if out, ok := SetField(obj, f.key, v); ok {
					obj = out
				}
			}
		}
	}
	if len(conv) > 0 && conv[0] == '{' { // {"id": "conv_..."}
		if out, ok := SetField(obj, "conversation", s.object(conv)); ok {
			obj = out
		}
	}
	if len(file) > 0 && file[0] == '{' { // a completed upload's file
		if out, ok := SetField(obj, "file", s.object(file)); ok {
			obj = out
		}
	}
	if len(results) > 0 && results[0] == '[' {
		var ids []string
		if json.Unmarshal(results, &ids) == nil && len(ids) > 0 {
			for i, id := range ids {
				if strings.HasPrefix(id, fileKind.prefix) {
					ids[i] = fileKind.encode(s.provider, s.deployment, id)
				}
			}
			if list, err := json.Marshal(ids); err == nil {
				if out, ok := SetField(obj, "result_files", list); ok {
					obj = out
				}
			}
		}
	}
	if len(data) > 0 && data[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(data, &items) == nil {
			for i, it := range items {
				if len(it) > 0 && it[0] == '{' {
					items[i] = s.object(it)
				}
			}
			if list, err := json.Marshal(items); err == nil {
				if out, ok := SetField(obj, "data", list); ok {
					obj = out
				}
			}
		}
	}
	return s.fileRefs(obj)
}

// refKeys are the keys under which answers name what they cite or made:
// the files an annotation (file_citation, file_path), a search result or
// a file_search call's results name ("file_id"), and the container the
// code interpreter ran in (a code_interpreter_call's, a
// container_file_citation's "container_id").
var refKeys = []struct {
	key  []byte
	kind storedKind
}{{[]byte(`"file_id"`), fileKind}, {[]byte(`"container_id"`), containerKind}}

// fileRefs returns b, JSON, with each "file_id" that is the upstream's
// own file id ("file-...", at any depth), and each "container_id" that
// is its container's ("cntr_..."), replaced by the id clients get.
func (s storedIDs) fileRefs(b []byte) []byte {
	for _, rk := range refKeys {
		if bytes.Contains(b, rk.key) {
			b = s.refs(b, rk.key, rk.kind)
		}
	}
	return b
}

// refs returns b with each value of key that is kind's upstream id
// encoded.
func (s storedIDs) refs(b, key []byte, kind storedKind) []byte {
	var out []byte
	rest := b
	for {
		i := bytes.Index(rest, key)
		if i < 0 {
			break
		}
		j := i + len(key)
		for j < len(rest) && (rest[j] == ' ' || rest[j] == ':' || rest[j] == '\t' || rest[j] == '\n' || rest[j] == '\r') {
			j++
		}
		if !bytes.HasPrefix(rest[j:], []byte(`"`+kind.prefix)) {
			out, rest = append(out, rest[:j]...), rest[j:]
			continue
		}
		end := bytes.IndexByte(rest[j+1:], '"')
		if end < 0 {
			break
		}
		id := string(rest[j+1 : j+1+end])
		out = append(append(out, rest[:j+1]...), kind.encode(s.provider, s.deployment, id)...)
		rest = rest[j+1+end:]
	}
	if out == nil {
		return b
	}
	return append(out, rest...)
}

// event returns a stream event's data with the response it carries
// ("response": the lifecycle events response.created, .in_progress,
// .completed, ...) under the id clients get, and the files it cites
// (an annotation's, a file_search call's) under theirs.
func (s storedIDs) event(data []byte) []byte {
	var resp []byte
	if !EachField(data, func(k, v []byte) {
		if string(k) == "response" {
			resp = v
		}
	}) || len(resp) == 0 || resp[0] != '{' {
		return s.fileRefs(data)
	}
	if out, ok := SetField(data, "response", s.object(resp)); ok {
		return out
	}
	return data
}

// chatIDs rewrites the id of a stored chat completion (store: true), in
// its answer or in each chunk of its stream, to the one clients get
// (EncodeChatCompletionID). A stream's chunks all carry one id, encoded
// once.
type chatIDs struct {
	storedIDs
	from string // the upstream's id last encoded
	to   []byte // its encoding, a JSON string
}

// object returns a chat completion or chunk (JSON) with its top-level id
// encoded; anything else as it is.
func (c *chatIDs) object(data []byte) []byte {
	var v []byte
	if !EachField(data, func(k, val []byte) {
		if string(k) == "id" {
			v = val
		}
	}) {
		return data
	}
	id, ok := JSONString(v)
	if !ok || !strings.HasPrefix(id, chatCompletionKind.prefix) {
		return data
	}
	if id != c.from || c.to == nil {
		c.from = id
		c.to, _ = json.Marshal(chatCompletionKind.encode(c.provider, c.deployment, id))
	}
	if out, ok := SetField(data, "id", c.to); ok {
		return out
	}
	return data
}

// storesChat reports whether req is a chat completion its upstream is to
// store: store true in the body (Request.Store), or in the deployment's
// defaults (and not dropped).
func storesChat(req *Request) bool {
	if req.Op != Chat || (req.API != APIChat && req.API != "") || req.ContentType != "" {
		return false
	}
	if req.Store {
		return true
	}
	if v, set := req.Defaults["store"]; !set || string(bytes.TrimSpace(v)) != "true" || slices.Contains(req.Drop, "store") {
		return false
	}
	// The deployment's default, unless the body says otherwise (a scan
	// made only for a deployment that stores by default).
	stores := true
	if bytes.Contains(req.Body, []byte(`"store"`)) {
		EachField(req.Body, func(k, v []byte) {
			if string(k) == "store" {
				stores = string(v) == "true"
			}
		})
	}
	return stores
}
