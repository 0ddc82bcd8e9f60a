package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/mockllm"
)

// A chat stream that breaks after its first chunks goes on at the route's
// next deployment, as LiteLLM's mid-stream fallback does: that deployment
// gets the client's messages, the text the client already has as an
// assistant message and an instruction to continue, and its chunks reach
// the client on the same stream under the stream's id (the official SDK's
// accumulator keeps to one id), which ends cleanly; the broken stream
// counts against its deployment.
func TestBrokenStreamContinuesAtTheNextDeployment(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	// One answer first, so the primary's stream ids differ from the
	// backup's.
	if _, _, err := e.chat("gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 3}) // the role, "Hello ", "from "
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("tell me")}})
	acc, chunks, err := drain(stream)
	if err != nil {
		t.Fatalf("after %d chunks: %v", chunks, err)
	}
	got := acc.Choices[0].Message.Content
	if !strings.HasPrefix(got, "Hello from Hello from backup!") || acc.ID != "chatcmpl-mock-2" {
		t.Fatalf("content %q, id %q: want the primary's text, then the backup's, under the primary's id", got, acc.ID)
	}
	var sent struct {
		Messages []struct{ Role, Content string }
	}
	if err := json.Unmarshal([]byte(e.mocks["backup"].LastBody()), &sent); err != nil {
		t.Fatal(err)
	}
	m := sent.Messages
	if len(m) != 3 || m[0].Content != "tell me" || m[1].Role != "assistant" || m[1].Content != "Hello from " ||
		m[2].Role != "user" || !strings.Contains(m[2].Content, "Continue it from exactly where it stopped") {
		t.Fatalf("the backup got messages %+v", m)
	}
	<-e.done
	if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
		t.Fatalf("primary counts %+v: the broken stream is a failure", c)
	}
	if move := <-e.moves; move != "gpt-4o-mini/openai/gpt-4o-mini -> claude-3-5-sonnet/openai/claude-3-5-sonnet: midstream" {
		t.Fatalf("move %q: want a midstream one", move)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"msg":"stream continued at another deployment"`) || !strings.Contains(logs, `"to":"claude-3-5-sonnet/openai/claude-3-5-sonnet"`) {
		t.Fatalf("logs lack the continuation:\n%s", logs)
	}
}

// A stream no deployment can continue ends with the error event, which
// says so; one whose request asks for several choices, or stores its
// completion, is not continued.
func TestBrokenStreamNoOneContinues(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		backup     mockllm.Faults
		want       string
	}{
		{"the next deployment fails too", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`,
			mockllm.Faults{ErrorRate: 1, Status: 503}, "no other deployment could continue it"},
		{"several choices", `{"model":"gpt-4o-mini","stream":true,"n":2,"messages":[{"role":"user","content":"x"}]}`,
			mockllm.Faults{}, "the upstream stream broke"},
		{"a stored completion", `{"model":"gpt-4o-mini","stream":true,"store":true,"messages":[{"role":"user","content":"x"}]}`,
			mockllm.Faults{}, "the upstream stream broke"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, twoGroups, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 3})
			e.mocks["backup"].SetFaults(tc.backup)
			events := streamEvents(t, e, tc.body)
			last := events[len(events)-1]
			if !strings.Contains(last, `"error"`) || !strings.Contains(last, tc.want) {
				t.Fatalf("events %q: want an error event saying %q", events, tc.want)
			}
			<-e.done
		})
	}
}

// A stream that stalls mid-way (no chunk within its stream_timeout) goes
// on elsewhere too, its stall a timeout against its deployment.
func TestStalledStreamContinuesAtTheNextDeployment(t *testing.T) {
	cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      stream_timeout: 100ms", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{StallAfter: 2}) // the role, "Hello "
	acc, chunks, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), streamParams()))
	if err != nil || !strings.HasPrefix(acc.Choices[0].Message.Content, "Hello Hello from backup!") {
		t.Fatalf("after %d chunks, err %v, content %q", chunks, err, acc.Choices[0].Message.Content)
	}
	<-e.done
	if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
		t.Fatalf("primary counts %+v: the stall is a failure", c)
	}
}
