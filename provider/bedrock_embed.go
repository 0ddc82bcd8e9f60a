package provider

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strings"
)

// Embedding models on Bedrock take their own bodies at InvokeModel:
// Amazon's Titan one text per call ({"inputText"}), Cohere's a list of
// texts ({"texts", "input_type"}). bedrockEmbeddings answers OpenAI's
// embeddings request with them.

// bedrockEmbeddings serves an OpenAI embeddings request at the model's
// InvokeModel: one call per input for Titan, one for all of them for
// Cohere; dimensions goes to Titan v2, and encoding_format base64 is
// done here, as OpenAI encodes (little-endian float32s).
func (p *anthropic) bedrockEmbeddings(ctx context.Context, req *Request) (*Response, error) {
	fields, inputs, format, err := embeddingInputs(req, "Bedrock's")
	if err != nil {
		return nil, err
	}
	var dims int
	_ = json.Unmarshal(fields["dimensions"], &dims)
	cohere := strings.Contains(p.d.Bedrock.ModelID, "cohere.")
	var vectors [][]float64
	tokens := 0
	if cohere {
		inputType := "search_document"
		_ = json.Unmarshal(fields["input_type"], &inputType) // Cohere's, which LiteLLM passes on
		body, _ := json.Marshal(map[string]any{"texts": inputs, "input_type": inputType})
		var out struct {
			Embeddings json.RawMessage `json:"embeddings"`
		}
		if err := p.invokeJSON(ctx, body, &out); err != nil {
			return nil, err
		}
		// v3 answers a list; v4 (and v3 asked for types) {"float": list}.
		if json.Unmarshal(out.Embeddings, &vectors) != nil {
			var typed struct {
				Float [][]float64 `json:"float"`
			}
			_ = json.Unmarshal(out.Embeddings, &typed)
			vectors = typed.Float
		}
		if len(vectors) != len(inputs) {
			return nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
		}
		for _, in := range inputs {
			tokens += max(len(in)/4, 1) // Cohere on Bedrock reports no count
		}
	} else {
		for _, in := range inputs {
			m := map[string]any{"inputText": in}
			if dims > 0 {
				m["dimensions"] = dims
			}
			body, _ := json.Marshal(m)
			var out struct {
				Embedding []float64 `json:"embedding"`
				Tokens    int       `json:"inputTextTokenCount"`
			}
			if err := p.invokeJSON(ctx, body, &out); err != nil {
				return nil, err
			}
			if out.Embedding == nil {
				return nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
			}
			vectors = append(vectors, out.Embedding)
			tokens += out.Tokens
		}
	}
	return embeddingsResponse(vectors, format, p.d.Model, tokens), nil
}

// embeddingInputs reads an OpenAI embeddings request for an API that
// takes text (whose, in the error): its fields, its texts (input, a
// string or a list of them) and its encoding_format.
func embeddingInputs(req *Request, whose string) (fields map[string]json.RawMessage, inputs []string, format string, err error) {
	fields, ferr := req.Fields()
	if ferr != nil {
		return nil, nil, "", badRequest("invalid JSON body")
	}
	var one string
	if json.Unmarshal(fields["input"], &one) == nil {
		inputs = []string{one}
	} else if json.Unmarshal(fields["input"], &inputs) != nil || len(inputs) == 0 {
		return nil, nil, "", badRequest("input must be a string or a list of strings: %s embedding models take text, not tokens", whose)
	}
	_ = json.Unmarshal(fields["encoding_format"], &format)
	return fields, inputs, format, nil
}

// embeddingsResponse is OpenAI's embeddings answer for vectors that
// another API gave: with encoding_format base64 (format) they are
// encoded here, as OpenAI encodes them (little-endian float32s).
func embeddingsResponse(vectors [][]float64, format, model string, tokens int) *Response {
	data := make([]map[string]any, len(vectors))
	for i, v := range vectors {
		var emb any = v
		if format == "base64" {
			b := make([]byte, 0, 4*len(v))
			for _, f := range v {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f)))
			}
			emb = base64.StdEncoding.EncodeToString(b)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	out, _ := json.Marshal(map[string]any{"object": "list", "data": data, "model": model,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}})
	return &Response{Body: out, Model: model, Usage: Usage{InputTokens: tokens}}
}

// invokeJSON sends body to the model's InvokeModel and decodes its answer
// into out.
func (p *anthropic) invokeJSON(ctx context.Context, body []byte, out any) error {
	hreq, err := p.urls.post(ctx, bedrockURL(p.d.APIBase, p.d.Bedrock, "", false), body, false)
	if err != nil {
		return &Error{Err: err, Message: "build request: " + p.redact(err.Error())}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	configHeaders(hreq.Header, p.d)
	if err := p.bedrockAuth(ctx, hreq, body); err != nil {
		return err
	}
	_, data, err := roundTrip(ctx, p.rt, hreq, false, p.redact, p.httpError, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Status: http.StatusBadGateway, Err: err, Message: "upstream sent invalid JSON"}
	}
	return nil
}
