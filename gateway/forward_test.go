package gateway_test

import (
	"bytes"
	"cmp"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// LiteLLM's forward_client_headers_to_llm_api: a request for a model it
// names carries its client's x- headers and anthropic-beta upstream, but
// never the OpenAI SDKs' x-stainless-* nor a key; the deployment's own
// headers win; forward_openai_org_id adds OpenAI-Organization, for every
// model; with neither, nothing of the client's goes upstream.
func TestClientHeadersForwardedAsLiteLLMDoes(t *testing.T) {
	client := []string{"X-Trace-Id", "t-1", "Anthropic-Beta", "b-1", "X-Stainless-Lang", "js", "X-Api-Key", "sk-master-key-0123456789",
		"Authorization", "Bearer sk-master-key-0123456789", "OpenAI-Organization", "org-1", "X-Team", "client-team", "X-Amz-Date", "20260101T000000Z"}
	for _, tc := range []struct {
		name, settings, params string
		want                   map[string]string // "" for not sent
		group                  string            // the model_name, when not m
	}{
		{"off", "", "", map[string]string{"X-Trace-Id": "", "Anthropic-Beta": "", "OpenAI-Organization": "", "X-Team": ""}, ""},
		{"every model", "general_settings: {master_key: sk-master-key-0123456789, forward_client_headers_to_llm_api: true}\n", "",
			map[string]string{"X-Trace-Id": "t-1", "Anthropic-Beta": "b-1", "X-Stainless-Lang": "", "X-Api-Key": "", "Authorization": "Bearer sk-upstream-key",
				"OpenAI-Organization": "", "X-Team": "client-team", "X-Amz-Date": ""}, ""},
		{"the deployment's own win", "general_settings: {forward_client_headers_to_llm_api: true}\n", "      extra_headers: {X-Team: ours}\n",
			map[string]string{"X-Trace-Id": "t-1", "X-Team": "ours"}, ""},
		{"its model named", "litellm_settings: {model_group_settings: {forward_client_headers_to_llm_api: [m]}}\n", "",
			map[string]string{"X-Trace-Id": "t-1"}, ""},
		{"its model matched by a pattern", "litellm_settings: {model_group_settings: {forward_client_headers_to_llm_api: [\"m*\"]}}\n", "",
			map[string]string{"X-Trace-Id": "t-1"}, ""},
		{"the group an alias names", "router_settings: {model_group_alias: {m: real}}\nlitellm_settings: {model_group_settings: {forward_client_headers_to_llm_api: [real]}}\n", "",
			map[string]string{"X-Trace-Id": "t-1"}, "real"},
		{"another model named", "litellm_settings: {model_group_settings: {forward_client_headers_to_llm_api: [other]}}\n", "",
			map[string]string{"X-Trace-Id": ""}, ""},
		{"the organization alone", "general_settings: {forward_openai_org_id: true}\n", "",
			map[string]string{"OpenAI-Organization": "org-1", "X-Trace-Id": ""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upstream, headers := recordingUpstream(t, `{"id":"chatcmpl-1","object":"chat.completion","model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
			group := cmp.Or(tc.group, "m")
			resp, data := chatOnce(t, "model_list:\n  - model_name: "+group+"\n    litellm_params:\n      model: openai/gpt-4o\n"+
				"      api_base: "+upstream+"\n      api_key: sk-upstream-key\n"+tc.params+tc.settings, client...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, data)
			}
			got := headers()
			for k, want := range tc.want {
				if v := got.Get(k); v != want {
					t.Errorf("upstream got %s %q, want %q", k, v, want)
				}
			}
		})
	}
}

// Calls that name no model (a file's upload, a stored object's) forward
// the headers their deployment's group would: its model's.
func TestClientHeadersForwardedOnStoredCalls(t *testing.T) {
	for _, tc := range []struct {
		name, settings, want string
	}{
		{"the group forwards", "litellm_settings: {model_group_settings: {forward_client_headers_to_llm_api: [m]}}\n", "t-1"},
		{"another group forwards", "litellm_settings: {model_group_settings: {forward_client_headers_to_llm_api: [other]}}\n", ""},
		{"none forwards", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upstream, headers := recordingUpstream(t, `{"id":"file-abc","object":"file","bytes":3,"created_at":1,"filename":"a.jsonl","purpose":"batch","status":"processed"}`)
			url := serveGateway(t, "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o, api_base: \""+upstream+"\", api_key: sk-upstream-key}\n"+tc.settings)
			var body bytes.Buffer
			form := multipart.NewWriter(&body)
			_ = form.WriteField("purpose", "batch")
			part, _ := form.CreateFormFile("file", "a.jsonl")
			_, _ = part.Write([]byte("{}\n"))
			_ = form.Close()
			req, _ := http.NewRequest(http.MethodPost, url+"/v1/files", &body)
			req.Header.Set("Content-Type", form.FormDataContentType())
			req.Header.Set("X-Trace-Id", "t-1")
			req.Header.Set("X-Stainless-Lang", "js")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, data)
			}
			if got := headers(); got.Get("X-Trace-Id") != tc.want || got.Get("X-Stainless-Lang") != "" {
				t.Fatalf("upstream got X-Trace-Id %q, X-Stainless-Lang %q; want %q and none", got.Get("X-Trace-Id"), got.Get("X-Stainless-Lang"), tc.want)
			}
		})
	}
}
