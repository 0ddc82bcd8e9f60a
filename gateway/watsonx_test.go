package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/mockllm"
)

// IBM watsonx.ai through breakerd, with the official OpenAI SDK as the
// client and mockllm playing watsonx.ai and IBM Cloud IAM: the API key is
// traded for an IAM token once and never sent; the model goes as
// model_id with its project; tool_choice "required" goes as
// tool_choice_option; watsonx.ai's streams (numbered message events, no
// [DONE]) reach the client as OpenAI's, with their usage; embeddings go
// to its own API and come back in OpenAI's shape; and its errors
// ({"errors": [...]}) keep their message.
func TestWatsonx(t *testing.T) {
	const key = "ibm-cloud-api-key-0123456789"
	wx := mockllm.New(mockllm.Options{Name: "watsonx", APIKey: key})
	srv := httptest.NewServer(wx.Handler())
	t.Cleanup(srv.Close)
	e := newEnv(t, `
environment_variables:
  WATSONX_IAM_URL: `+srv.URL+`/identity/token
model_list:
  - model_name: granite
    litellm_params: {model: watsonx/ibm/granite-3-8b-instruct, api_key: `+key+`, api_base: "`+srv.URL+`", project_id: proj-1}
  - model_name: slate
    litellm_params: {model: watsonx/ibm/slate-30m-english-rtrvr, api_key: `+key+`, api_base: "`+srv.URL+`", space_id: space-1}
  - model_name: wrong-key
    litellm_params: {model: watsonx/ibm/granite-3-8b-instruct, api_key: ibm-cloud-api-key-revoked, api_base: "`+srv.URL+`", project_id: proj-1}
router_settings: {num_retries: 0}
`)
	got, h, err := e.chat("granite")
	if err != nil || got.Choices[0].Message.Content != "Hello from watsonx! You said: Hello" || got.Model != "ibm/granite-3-8b-instruct" ||
		h.Get("X-Breakerd-Provider") != "watsonx" {
		t.Fatalf("chat: %+v %v %v", got, h, err)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(wx.LastBody()), &sent); err != nil || sent["model_id"] != "ibm/granite-3-8b-instruct" ||
		sent["project_id"] != "proj-1" || sent["model"] != nil {
		t.Fatalf("watsonx.ai got %s", wx.LastBody())
	}

	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "granite",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	acc, chunks, err := drain(stream)
	if err != nil || acc.Choices[0].Message.Content != "Hello from watsonx! You said: stream please" || acc.Usage.TotalTokens == 0 || chunks < 3 {
		t.Fatalf("stream: %+v, %d chunks, %v", acc.ChatCompletion, chunks, err)
	}

	tool, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "granite",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather?")},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_weather",
			Parameters: openai.FunctionParameters{"type": "object"}})},
		ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}})
	if err != nil || len(tool.Choices[0].Message.ToolCalls) != 1 || tool.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("tool call: %+v %v (sent %s)", tool, err, wx.LastBody())
	}
	if n := wx.Stats().IAMTokens; n != 1 {
		t.Fatalf("%d IAM tokens granted for 3 calls, want 1, kept", n)
	}

	// Embeddings, at watsonx.ai's own API, in OpenAI's shape.
	emb, err := e.client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "slate",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"one text", "and another one"}}})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[1].Embedding) != 8 || emb.Usage.PromptTokens != 3+4 {
		t.Fatalf("embeddings: %+v %v", emb, err)
	}
	if sent := wx.LastBody(); !strings.Contains(sent, `"inputs":["one text","and another one"]`) || !strings.Contains(sent, `"space_id":"space-1"`) ||
		!strings.Contains(sent, `"model_id":"ibm/slate-30m-english-rtrvr"`) {
		t.Fatalf("watsonx.ai got %s", sent)
	}

	// Its own error format keeps its message.
	wx.SetFaults(mockllm.Faults{ContextTokens: 1})
	status, _, body := e.post("/v1/chat/completions", `{"model":"granite","messages":[{"role":"user","content":"a prompt too long"}]}`)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != http.StatusBadRequest || !strings.Contains(msg, "maximum context length is 1 tokens") {
		t.Fatalf("too long: %d %v", status, body)
	}
	wx.SetFaults(mockllm.Faults{})

	// A key IAM refuses: IAM's words, never the key.
	status, _, body = e.post("/v1/chat/completions", `{"model":"wrong-key","messages":[{"role":"user","content":"hi"}]}`)
	raw, _ := json.Marshal(body)
	if status < 400 || !strings.Contains(string(raw), "Provided API key could not be found") || strings.Contains(string(raw), "revoked") {
		t.Fatalf("wrong key: %d %s", status, raw)
	}
}
