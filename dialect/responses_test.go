package dialect

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// A Responses request's custom tools (free-form input, Codex's
// apply_patch) go to chat as functions of one string, input, their
// grammar said in its description; a custom tool_choice names its
// function; earlier custom calls and their outputs go as the function's.
func TestCustomToolsToChat(t *testing.T) {
	tr, err := ResponsesToChat([]byte(`{"model":"m","tools":[{"type":"custom","name":"apply_patch","description":"Edit files.",` +
		`"format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch"}},{"type":"function","name":"shell","parameters":{"type":"object"}}],` +
		`"tool_choice":{"type":"custom","name":"apply_patch"},"input":[{"role":"user","content":"fix it"},` +
		`{"type":"custom_tool_call","call_id":"call_1","name":"apply_patch","input":"*** Begin Patch\n"},` +
		`{"type":"custom_tool_call_output","call_id":"call_1","output":"Done"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Unfit) != 0 || len(tr.Custom) != 1 || tr.Custom[0] != "apply_patch" {
		t.Fatalf("unfit %v, custom %v", tr.Unfit, tr.Custom)
	}
	var chat struct {
		Tools []struct {
			Function struct {
				Name        string
				Description string
				Parameters  struct {
					Required   []string
					Properties map[string]struct{ Type, Description string }
				}
			}
		}
		ToolChoice struct{ Function struct{ Name string } } `json:"tool_choice"`
		Messages   []struct {
			Role       string
			Content    *string
			ToolCallID string `json:"tool_call_id"`
			ToolCalls  []struct {
				ID       string
				Function struct{ Name, Arguments string }
			} `json:"tool_calls"`
		}
	}
	if err := json.Unmarshal(tr.Chat, &chat); err != nil {
		t.Fatal(err)
	}
	fn := chat.Tools[0].Function
	input := fn.Parameters.Properties["input"]
	if fn.Name != "apply_patch" || fn.Description != "Edit files." || input.Type != "string" || !strings.Contains(input.Description, "lark grammar") ||
		!strings.Contains(input.Description, "start: begin_patch") || len(fn.Parameters.Required) != 1 || chat.ToolChoice.Function.Name != "apply_patch" {
		t.Fatalf("chat %s", tr.Chat)
	}
	m := chat.Messages
	if len(m) != 3 || m[1].Role != "assistant" || len(m[1].ToolCalls) != 1 || m[1].ToolCalls[0].Function.Arguments != `{"input":"*** Begin Patch\n"}` ||
		m[2].Role != "tool" || m[2].ToolCallID != "call_1" || *m[2].Content != "Done" {
		t.Fatalf("messages %s", tr.Chat)
	}
}

// A chat answer's call to a custom tool's function goes back as a custom
// tool call, its input the function's input string, whole and streamed;
// a function's call stays one.
func TestCustomToolCallsFromChat(t *testing.T) {
	answer := `{"id":"chatcmpl-1","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,` +
		`"tool_calls":[{"id":"call_1","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n\"}"}},` +
		`{"id":"call_2","type":"function","function":{"name":"shell","arguments":"{\"cmd\":\"ls\"}"}}]}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}`
	body, err := ChatToResponse([]byte(answer), "m", &Translated{Custom: []string{"apply_patch"}})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Output []map[string]any
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Output) != 2 || r.Output[0]["type"] != "custom_tool_call" || r.Output[0]["input"] != "*** Begin Patch\n" || r.Output[0]["call_id"] != "call_1" ||
		r.Output[1]["type"] != "function_call" || r.Output[1]["arguments"] != `{"cmd":"ls"}` {
		t.Fatalf("output %s", body)
	}

	chunk := func(d string) string { return `{"id":"chatcmpl-1","choices":[{"index":0,"delta":` + d + `}]}` }
	s := ResponsesFrames(&chunks{[]string{
		chunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"apply_patch","arguments":""}}]}`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"input\":\"*** Begin"}}]}`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":" Patch\\n\"}"}}]}`),
		`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`}}, "m", &Translated{Custom: []string{"apply_patch"}})
	var types []string
	var delta, done string
	for {
		b, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_, data, _ := strings.Cut(string(b), "data: ")
		var ev struct {
			Type  string
			Delta string
			Item  map[string]any
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(data)), &ev); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.custom_tool_call_input.delta":
			delta += ev.Delta
		case "response.output_item.done":
			done, _ = ev.Item["input"].(string)
		}
	}
	if got := strings.Join(types, ","); got != "response.created,response.in_progress,response.output_item.added,"+
		"response.custom_tool_call_input.delta,response.custom_tool_call_input.done,response.output_item.done,response.completed" ||
		delta != "*** Begin Patch\n" || done != delta {
		t.Fatalf("events %s, input %q, done %q", got, delta, done)
	}
}

// A reasoning item's summary is the reasoning_content of the assistant
// turn after it (a message, or tool calls), which a thinking model
// (DeepSeek's) reads back; one with none says so.
func TestReasoningItemsToChat(t *testing.T) {
	for _, tc := range []struct {
		name, items string
		want        []string // each message's reasoning_content, "-" for none
	}{
		{"before a message", `{"role":"user","content":"hi"},{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"greet"}]},` +
			`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello"}]}`, []string{"-", "greet"}},
		{"before tool calls", `{"role":"user","content":"hi"},{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"a"},{"type":"summary_text","text":"b"}]},` +
			`{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call","call_id":"c2","name":"f","arguments":"{}"},` +
			`{"type":"function_call_output","call_id":"c1","output":"x"}`, []string{"-", "a\n\nb", "-"}},
		{"an empty summary", `{"role":"user","content":"hi"},{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"x"},` +
			`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello"}]}`, []string{"-", "-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ResponsesToChat([]byte(`{"model":"m","input":[` + tc.items + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			var chat struct {
				Messages []map[string]any
			}
			if err := json.Unmarshal(tr.Chat, &chat); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range chat.Messages {
				r, ok := m["reasoning_content"].(string)
				if !ok {
					r = "-"
				}
				got = append(got, r)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || tr.Reasoning != slices.ContainsFunc(tc.want, func(s string) bool { return s != "-" }) {
				t.Fatalf("reasoning %q (flag %v), want %q: %s", got, tr.Reasoning, tc.want, tr.Chat)
			}
		})
	}
}

// A tool only code may call (allowed_callers without "direct": OpenAI's
// and Anthropic's programmatic tool calling) would be offered to a chat
// model to call itself: the request is one only the API itself serves.
// One the model may call goes as any tool.
func TestProgrammaticToolsAreUnfit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		api     string
		callers string
		unfit   bool
	}{
		{"Responses, code alone", "responses", `["programmatic"]`, true},
		{"Responses, the model too", "responses", `["direct","programmatic"]`, false},
		{"Responses, no callers said", "responses", ``, false},
		{"Messages, code execution alone", "messages", `["code_execution_20250825"]`, true},
		{"Messages, the model", "messages", `["direct"]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			callers := ""
			if tc.callers != "" {
				callers = `,"allowed_callers":` + tc.callers
			}
			var tr *Translated
			var err *Error
			if tc.api == "responses" {
				tr, err = ResponsesToChat([]byte(`{"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":{"type":"object"}` + callers + `}]}`))
			} else {
				tr, err = MessagesToChat([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{"type":"object"}` + callers + `}]}`))
			}
			if err != nil {
				t.Fatal(err)
			}
			if unfit := slices.Contains(tr.Unfit, "tools[0] (allowed_callers)"); unfit != tc.unfit || !tc.unfit && !strings.Contains(string(tr.Chat), `"name":"f"`) {
				t.Fatalf("unfit %v, chat %s", tr.Unfit, tr.Chat)
			}
		})
	}
}
