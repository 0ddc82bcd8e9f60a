package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// tagged is a LiteLLM config with tag routing: a free, a paid and a
// default deployment of one model.
const tagged = `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret, tags: [free]}
    model_info: {id: free}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_B}/v1", api_key: sk-b-secret, tags: [paid, eu]}
    model_info: {id: paid}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_C}/v1", api_key: sk-c-secret, tags: [default]}
    model_info: {id: default}
router_settings:
  routing_strategy: ordered
  num_retries: 0
  enable_tag_filtering: true
`

// With LiteLLM's tag routing on, a request's tags (the tags parameter,
// as the SDKs send it in extra_body, LiteLLM's metadata.tags, which no
// upstream gets, or x-litellm-tags) pick the
// deployments tagged so, else those tagged "default"; an untagged request
// goes to the "default" ones.
func TestTagRouting(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		opts         []option.RequestOption
		want         string // the deployment that serves, or the 400's message
	}{
		{"tags in the body", tagged, []option.RequestOption{option.WithJSONSet("tags", []string{"paid"})}, "paid"},
		{"tags in the header", tagged, []option.RequestOption{option.WithHeader("x-litellm-tags", "gold, free")}, "free"},
		{"tags in LiteLLM's metadata", tagged, []option.RequestOption{option.WithJSONSet("metadata", map[string]any{"tags": []string{"paid"}})}, "paid"},
		{"no tags: the default", tagged, nil, "default"},
		{"tags no deployment has: the default", tagged, []option.RequestOption{option.WithJSONSet("tags", []string{"gold"})}, "default"},
		{"all the tags, when they must all match", strings.Replace(tagged, "enable_tag_filtering: true", "enable_tag_filtering: true\n  tag_filtering_match_any: false", 1),
			[]option.RequestOption{option.WithJSONSet("tags", []string{"paid", "us"})}, "default"},
		{"no default: a 400", strings.Replace(tagged, "tags: [default]", "tags: [internal]", 1),
			[]option.RequestOption{option.WithJSONSet("tags", []string{"gold"})}, `has the tags ["gold"], nor the tag "default"`},
		{"untagged, with no default: any", strings.Replace(tagged, "tags: [default]", "tags: [internal]", 1), nil, "free"},
		{"tag routing off: the tags are ignored", strings.Replace(tagged, "enable_tag_filtering: true", "enable_tag_filtering: false", 1),
			[]option.RequestOption{option.WithJSONSet("tags", []string{"paid"})}, "free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.config, "a", "b", "c")
			var hr *http.Response
			_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, append(tc.opts, option.WithResponseInto(&hr))...)
			if strings.Contains(tc.want, " ") {
				var apiErr *openai.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, tc.want) {
					t.Fatalf("%v, want a 400 saying %s", err, tc.want)
				}
				return
			}
			if err != nil || hr.Header.Get("X-Breakerd-Deployment") != tc.want {
				t.Fatalf("served by %q (%v), want %s", hr.Header.Get("X-Breakerd-Deployment"), err, tc.want)
			}
			if ignored := hr.Header.Get("X-Breakerd-Ignored-Params"); strings.Contains(tc.name, "off") != (ignored == "tags") {
				t.Fatalf("ignored params %q", ignored)
			}
			for _, m := range e.mocks {
				if strings.Contains(m.LastBody(), `"tags"`) {
					t.Fatalf("an upstream got the tags: %s", m.LastBody())
				}
			}
		})
	}
}
