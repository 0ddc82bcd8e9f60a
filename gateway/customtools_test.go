package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/breakerd/breakerd/mockllm"
)

// gptDeepSeekClaude is GPT-5.1, which takes OpenAI's newer tool features
// (custom tools, allowed_tools), and DeepSeek and Claude, which do not.
const gptDeepSeekClaude = `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-5.1, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: ds
    litellm_params: {model: deepseek/deepseek-chat, api_base: "${MOCK_DEEPSEEK}/v1", api_key: sk-deepseek-secret}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
`

// customCallsOf reads a chat stream's custom tool calls as a client that
// knows them does (the Node SDK's accumulator: a call's custom.name, its
// input's deltas appended), with any function call's name, and the
// choice's finish.
func customCallsOf(stream *ssestream.Stream[openai.ChatCompletionChunk]) (calls map[int]*[2]string, functions []string, finish string, err error) {
	defer stream.Close()
	calls = map[int]*[2]string{}
	for stream.Next() {
		var c struct {
			Choices []struct {
				Delta struct {
					ToolCalls []struct {
						Index  int
						Type   string
						Custom *struct{ Name, Input string }
						// Function is a function call's, which a custom
						// call's must not be.
						Function *struct{ Name string }
					} `json:"tool_calls"`
				}
				FinishReason *string `json:"finish_reason"`
			}
		}
		if err := json.Unmarshal([]byte(stream.Current().RawJSON()), &c); err != nil {
			return nil, nil, "", err
		}
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Function != nil {
					functions = append(functions, tc.Function.Name)
				}
				if tc.Custom == nil {
					continue
				}
				call := calls[tc.Index]
				if call == nil {
					call = &[2]string{}
					calls[tc.Index] = call
				}
				if tc.Custom.Name != "" {
					call[0] = tc.Custom.Name
				}
				call[1] += tc.Custom.Input
			}
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				finish = *ch.FinishReason
			}
		}
	}
	return calls, functions, finish, stream.Err()
}

// A chat client's custom tools (OpenAI's free-form tools, GPT-5's) reach
// a model that does not take them (DeepSeek, Claude: their APIs refuse
// the type) as functions of one string, input, the grammar said in the
// description; the model's call comes back as a custom call, whole and
// streamed (its input as it comes), and the next turn's
// custom call goes as the function's. GPT-5 gets them as they are.
func TestChatCustomToolsAtModelsWithoutThem(t *testing.T) {
	const config = gptDeepSeekClaude + `router_settings:
  fallbacks: [{gpt: [ds, claude]}]
`
	tool := openai.ChatCompletionCustomTool(openai.ChatCompletionCustomToolCustomParam{Name: "apply_patch", Description: openai.String("Edit files."),
		Format: openai.ChatCompletionCustomToolCustomFormatUnionParam{OfGrammar: &openai.ChatCompletionCustomToolCustomFormatGrammarParam{
			Grammar: openai.ChatCompletionCustomToolCustomFormatGrammarGrammarParam{Definition: `start: "*** Begin Patch" /.+/`, Syntax: "lark"}}}})
	ask := openai.ChatCompletionNewParams{Model: "gpt", Tools: []openai.ChatCompletionToolUnionParam{tool},
		ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfCustomToolChoice: &openai.ChatCompletionNamedToolChoiceCustomParam{
			Custom: openai.ChatCompletionNamedToolChoiceCustomCustomParam{Name: "apply_patch"}}},
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("fix the bug")}}
	for _, tc := range []struct {
		name, at string
		down     []string
	}{
		{"at DeepSeek", "deepseek", []string{"openai"}},
		{"at Claude", "anthropic", []string{"openai", "deepseek"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, config, "openai", "deepseek", "anthropic")
			for _, m := range tc.down {
				e.mocks[m].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
			}
			ctx := context.Background()
			resp, err := e.client.Chat.Completions.New(ctx, ask)
			if err != nil {
				t.Fatal(err)
			}
			msg := resp.Choices[0].Message
			if len(msg.ToolCalls) != 1 || msg.ToolCalls[0].Type != "custom" || msg.ToolCalls[0].AsCustom().Custom.Name != "apply_patch" ||
				msg.ToolCalls[0].AsCustom().Custom.Input == "" || strings.Contains(msg.ToolCalls[0].AsCustom().Custom.Input, `"input"`) ||
				resp.Choices[0].FinishReason != "tool_calls" {
				t.Fatalf("answer %s: want a custom call of apply_patch", resp.RawJSON())
			}
			sent := e.mocks[tc.at].LastBody()
			if strings.Contains(sent, `"custom"`) || !strings.Contains(sent, `"name":"apply_patch"`) || !strings.Contains(sent, "lark grammar") {
				t.Fatalf("%s got %s: want apply_patch as a function, its grammar in words", tc.at, sent)
			}
			input := msg.ToolCalls[0].AsCustom().Custom.Input

			calls, functions, finish, err := customCallsOf(e.client.Chat.Completions.NewStreaming(ctx, ask))
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 1 || calls[0] == nil || calls[0][0] != "apply_patch" || calls[0][1] != input || len(functions) != 0 || finish != "tool_calls" {
				t.Fatalf("streamed: custom calls %v, function calls %v, finish %q: want the custom call whole", calls, functions, finish)
			}

			// The tool loop goes on: the custom call and its output.
			next := ask
			next.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("auto")}
			next.Messages = append(next.Messages, msg.ToParam(), openai.ToolMessage("patched", msg.ToolCalls[0].ID))
			if _, err := e.client.Chat.Completions.New(ctx, next); err != nil {
				t.Fatal(err)
			}
			sent = e.mocks[tc.at].LastBody()
			if strings.Contains(sent, `"custom"`) || !strings.Contains(sent, "patched") {
				t.Fatalf("%s got %s: want the custom call as the function's", tc.at, sent)
			}
		})
	}

	e := newEnv(t, config, "openai", "deepseek", "anthropic")
	if _, err := e.client.Chat.Completions.New(context.Background(), ask); err != nil {
		t.Fatal(err)
	}
	if sent := e.mocks["openai"].LastBody(); !strings.Contains(sent, `"type":"custom"`) || strings.Contains(sent, "lark grammar") {
		t.Fatalf("GPT-5 got %s: want the custom tool as it is", sent)
	}
}

// OpenAI's allowed_tools tool_choice (the tools the model may call, of
// those offered) reaches a model that does not take it (Claude, whose
// translation refused it; DeepSeek) as the allowed tools alone and the
// choice's mode; GPT-5 gets it as it is.
func TestAllowedToolsAtModelsWithoutThem(t *testing.T) {
	e := newEnv(t, gptDeepSeekClaude, "openai", "deepseek", "anthropic")
	fn := func(name string) openai.ChatCompletionToolUnionParam {
		return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: name, Parameters: shared.FunctionParameters{"type": "object"}})
	}
	for _, tc := range []struct {
		group, mock string
		fitted      bool
	}{{"claude", "anthropic", true}, {"ds", "deepseek", true}, {"gpt", "openai", false}} {
		t.Run(tc.group, func(t *testing.T) {
			resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: tc.group,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather?")},
				Tools:    []openai.ChatCompletionToolUnionParam{fn("search"), fn("weather"), fn("calendar")},
				ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAllowedTools: &openai.ChatCompletionAllowedToolChoiceParam{
					AllowedTools: openai.ChatCompletionAllowedToolsParam{Mode: openai.ChatCompletionAllowedToolsModeRequired,
						Tools: []map[string]any{{"type": "function", "function": map[string]string{"name": "weather"}}}}}}})
			if err != nil {
				t.Fatal(err)
			}
			sent := e.mocks[tc.mock].LastBody()
			if !tc.fitted {
				if !strings.Contains(sent, `"allowed_tools"`) || !strings.Contains(sent, `"calendar"`) {
					t.Fatalf("GPT-5 got %s: want allowed_tools as it is", sent)
				}
				return
			}
			if strings.Contains(sent, "allowed_tools") || strings.Contains(sent, "calendar") || !strings.Contains(sent, `"weather"`) {
				t.Fatalf("%s got %s: want the allowed tool alone", tc.mock, sent)
			}
			if calls := resp.Choices[0].Message.ToolCalls; len(calls) != 1 || calls[0].Function.Name != "weather" {
				t.Fatalf("answer %s: want the allowed tool called (required)", resp.RawJSON())
			}
		})
	}
}
