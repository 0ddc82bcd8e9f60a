package gateway_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/conversations"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/mockllm"
	"github.com/breakerd/breakerd/provider"
)

// twoStores is one model group on two OpenAI deployments, each of which
// stores the responses it makes (mockllm keeps them as OpenAI does).
const twoStores = `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
    model_info: {id: a}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
    model_info: {id: b}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`

// storedOnB makes a response that deployment b serves and stores: a,
// first in order, fails it and is then healed.
func storedOnB(t *testing.T, e *env) *responses.Response {
	t.Helper()
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	r, err := e.client.Responses.New(context.Background(), responseParams("gpt-4o", "remember the blue door", false))
	if err != nil {
		t.Fatal(err)
	}
	e.mocks["a"].Reset()
	if _, d, up, ok := provider.DecodeResponseID(r.ID); !ok || d != "b" || !strings.HasPrefix(up, "resp_mock_") {
		t.Fatalf("the client got id %s (deployment %q, upstream %q)", r.ID, d, up)
	}
	return r
}

// A stored response is continued, retrieved, listed, cancelled and
// deleted at the deployment that made it, through the official SDK, even
// when routing would pick another: no other deployment has it.
func TestStoredResponsesStayWithTheirDeployment(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	first := storedOnB(t, e)

	next := responseParams("gpt-4o", "what colour was the door?", false)
	next.PreviousResponseID = openai.String(first.ID)
	var hr *http.Response
	r, err := e.client.Responses.New(ctx, next, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if got := hr.Header.Get("X-Breakerd-Deployment"); got != "b" {
		t.Fatalf("the follow-up went to %s", got)
	}
	_, _, upstreamID, _ := provider.DecodeResponseID(first.ID)
	if body := e.mocks["b"].LastBody(); !strings.Contains(body, `"previous_response_id":"`+upstreamID+`"`) {
		t.Fatalf("b got %s, not its own id %s", body, upstreamID)
	}
	if _, d, _, _ := provider.DecodeResponseID(r.ID); d != "b" {
		t.Fatalf("the follow-up's id %s names %q", r.ID, d)
	}

	got, err := e.client.Responses.Get(ctx, first.ID, responses.ResponseGetParams{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || got.OutputText() != first.OutputText() || got.Status != "completed" {
		t.Fatalf("retrieved %s %q %s, made %s %q", got.ID, got.OutputText(), got.Status, first.ID, first.OutputText())
	}

	stream := e.client.Responses.GetStreaming(ctx, first.ID, responses.ResponseGetParams{})
	var ids []string
	for stream.Next() {
		ids = append(ids, stream.Current().Type+" "+stream.Current().Response.ID)
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "response.created "+first.ID+",response.completed "+first.ID {
		t.Fatalf("streamed again: %v", ids)
	}

	// The API's own form, as the Python and Node SDKs send it.
	resp, err := e.http.Get(e.url + "/v1/responses/" + first.ID + "?stream=true")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || strings.Count(string(raw), first.ID) != 2 {
		t.Fatalf("GET ?stream=true: %s %s", resp.Header, raw)
	}

	items, err := e.client.Responses.InputItems.List(ctx, first.ID, responses.InputItemListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items.Data) != 1 || !strings.Contains(items.RawJSON(), "remember the blue door") {
		t.Fatalf("input items %s", items.RawJSON())
	}

	_, err = e.client.Responses.Cancel(ctx, first.ID)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "background") {
		t.Fatalf("cancelling a response that is not a background one: %v", err)
	}

	if err := e.client.Responses.Delete(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Responses.Get(ctx, first.ID, responses.ResponseGetParams{})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, first.ID) {
		t.Fatalf("retrieving a deleted response: %v", err)
	}
	_, err = e.client.Responses.New(ctx, next)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, first.ID) || strings.Contains(apiErr.Message, upstreamID) {
		t.Fatalf("continuing a deleted response: %v", err)
	}
	if n := e.mocks["a"].Stats().Requests; n != 0 {
		t.Fatalf("deployment a got %d calls after it was healed; it has none of b's responses", n)
	}
}

// A streamed response's events carry the id clients get, from the first
// event on.
func TestStreamedResponsesCarryTheirDeployment(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	stream := e.client.Responses.NewStreaming(context.Background(), responseParams("gpt-4o", "hi", false))
	var lifecycle []string
	for stream.Next() {
		ev := stream.Current()
		if ev.Response.ID != "" {
			_, d, up, ok := provider.DecodeResponseID(ev.Response.ID)
			if !ok || d != "a" || !strings.HasPrefix(up, "resp_mock_") {
				t.Fatalf("%s carries %s", ev.Type, ev.Response.ID)
			}
			lifecycle = append(lifecycle, ev.Type)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(lifecycle, ",") != "response.created,response.in_progress,response.completed" {
		t.Fatalf("events with a response: %v", lifecycle)
	}
}

// A response continued with another model whose route lacks the
// deployment that stores it goes to that route's deployments on the same
// account (the same api_base and key), which have it too, before any
// other: two model groups on one OpenAI account share what it stores.
func TestStoredResponsesContinueOnTheirAccount(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
    model_info: {id: a-4o}
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
    model_info: {id: b-mini}
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
    model_info: {id: a-mini}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`, "a", "b")
	ctx := context.Background()
	first, err := e.client.Responses.New(ctx, responseParams("gpt-4o", "remember the blue door", false))
	if err != nil {
		t.Fatal(err)
	}
	next := responseParams("gpt-4o-mini", "what colour was the door?", false)
	next.PreviousResponseID = openai.String(first.ID)
	var hr *http.Response
	second, err := e.client.Responses.New(ctx, next, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if _, d, _, _ := provider.DecodeResponseID(second.ID); d != "a-mini" || e.mocks["b"].Stats().Requests != 0 {
		t.Fatalf("served by %q (%s); b's stats %+v", d, hr.Header.Get("X-Breakerd-Deployment"), e.mocks["b"].Stats())
	}
	// With the account's deployment open, the request fails and says why,
	// rather than asking one that has not got the response.
	e.breaker("a-mini:chat").ForceOpen("test")
	_, err = e.client.Responses.New(ctx, next)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !strings.Contains(apiErr.Message, "only deployment a-4o stores (or another deployment on its account") ||
		e.mocks["b"].Stats().Requests != 0 {
		t.Fatalf("%v; b's stats %+v", err, e.mocks["b"].Stats())
	}
}

// When the deployment that stores a response is down, a call on the
// response fails fast and says why, instead of going to a deployment
// that does not have it; and ids breakerd cannot place get a 404 that
// says why.
func TestStoredResponsesWhenTheirDeploymentCannotServe(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	first := storedOnB(t, e)
	e.breaker("b:chat").ForceOpen("test")

	next := responseParams("gpt-4o", "and then?", false)
	next.PreviousResponseID = openai.String(first.ID)
	_, err := e.client.Responses.New(ctx, next)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !strings.Contains(apiErr.Message, "only deployment b stores") {
		t.Fatalf("continuing a response whose deployment is open: %v", err)
	}
	_, err = e.client.Responses.Get(ctx, first.ID, responses.ResponseGetParams{})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !strings.Contains(apiErr.Message, "deployment b") {
		t.Fatalf("retrieving a response whose deployment is open: %v", err)
	}
	if n := e.mocks["a"].Stats().Requests; n != 0 {
		t.Fatalf("deployment a got %d calls after it was healed; it has none of b's responses", n)
	}

	for _, tt := range []struct{ id, says string }{
		{"resp_67ccd2bed1ec8190b14f964abc054267", "breakerd did not issue it"},
		{provider.EncodeResponseID("openai", "gone", "resp_1"), "deployment gone"},
	} {
		_, err = e.client.Responses.Get(ctx, tt.id, responses.ResponseGetParams{})
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, tt.says) {
			t.Fatalf("retrieving %s: %v", tt.id, err)
		}
	}
}

// A failing upstream counts against the deployment's breaker on calls on
// stored responses too.
func TestStoredResponseFailuresCountAgainstTheDeployment(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	first := storedOnB(t, e)
	e.mocks["b"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	before := e.breaker("b:chat").Counts().Failures
	_, err := e.client.Responses.Get(context.Background(), first.ID, responses.ResponseGetParams{})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("%v", err)
	}
	if after := e.breaker("b:chat").Counts().Failures; after != before+1 {
		t.Fatalf("failures %d, then %d", before, after)
	}
}

// Reasoning an upstream returns encrypted (store: false, as Codex asks)
// goes back to the deployment that made it, which alone can read it,
// through the official SDK: a follow-up that carries it is routed there,
// with breakerd's mark taken off, non-streaming and streaming.
func TestEncryptedReasoningGoesBackToItsDeployment(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "streamed"}[stream], func(t *testing.T) {
			e := newEnv(t, twoStores, "a", "b")
			ctx := context.Background()
			p := responseParams("gpt-4o", "think about the door", false)
			p.Store = openai.Bool(false)
			p.Include = []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent}
			e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
			var first *responses.Response
			if stream {
				s := e.client.Responses.NewStreaming(ctx, p)
				var done bool
				for s.Next() {
					ev := s.Current()
					if ev.Type == "response.output_item.done" && ev.Item.Type == "reasoning" && !strings.HasPrefix(ev.Item.EncryptedContent, "litellm_enc:") {
						t.Fatalf("%s carries unmarked reasoning %s", ev.Type, ev.Item.EncryptedContent)
					}
					if ev.Type == "response.completed" {
						r := ev.Response
						first, done = &r, true
					}
				}
				if err := s.Err(); err != nil || !done {
					t.Fatalf("%v, completed %v", err, done)
				}
			} else {
				var err error
				if first, err = e.client.Responses.New(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			e.mocks["a"].Reset()
			if len(first.Output) != 2 || first.Output[0].Type != "reasoning" || !strings.HasPrefix(first.Output[0].EncryptedContent, "litellm_enc:") {
				t.Fatalf("output %s", first.RawJSON())
			}
			reasoning := first.Output[0].AsReasoning().ToParam()
			next := responseParams("gpt-4o", "", false)
			next.Store, next.Include = openai.Bool(false), p.Include
			next.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				{OfReasoning: &reasoning},
				responses.ResponseInputItemParamOfMessage("and now?", responses.EasyInputMessageRoleUser),
			}}
			var hr *http.Response
			if _, err := e.client.Responses.New(ctx, next, option.WithResponseInto(&hr)); err != nil {
				t.Fatal(err)
			}
			if got := hr.Header.Get("X-Breakerd-Deployment"); got != "b" {
				t.Fatalf("the follow-up went to %s", got)
			}
			if body := e.mocks["b"].LastBody(); strings.Contains(body, "litellm_enc:") || !strings.Contains(body, `"encrypted_content":"`) {
				t.Fatalf("b got %s", body)
			}

			// b down: the session goes on at a, which gets the request
			// without b's reasoning (it could not read it: the mock
			// refuses it as OpenAI does).
			e.breaker("b:chat").ForceOpen("test")
			if _, err := e.client.Responses.New(ctx, next, option.WithResponseInto(&hr)); err != nil || hr.Header.Get("X-Breakerd-Deployment") != "a" {
				t.Fatalf("with b open: %v, served by %s", err, hr.Header.Get("X-Breakerd-Deployment"))
			}
			if body := e.mocks["a"].LastBody(); strings.Contains(body, `"encrypted_content":"`) || !strings.Contains(body, "and now?") {
				t.Fatalf("a got %s", body)
			}
			if logs := e.logs.String(); !strings.Contains(logs, `"msg":"reasoning another deployment encrypted left out","model_group":"gpt-4o","deployment":"a","items":1,"made_by":"b"`) {
				t.Fatalf("logs lack the left-out reasoning:\n%s", logs)
			}
		})
	}
}

// A session that failed over once keeps working: its input then holds
// reasoning from two accounts, and each deployment gets its own and not
// the other's.
func TestSessionWithReasoningFromTwoDeployments(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	include := []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent}
	var input responses.ResponseInputParam
	turn := func(say string) string {
		t.Helper()
		input = append(input, responses.ResponseInputItemParamOfMessage(say, responses.EasyInputMessageRoleUser))
		p := responseParams("gpt-4o", "", false)
		p.Store, p.Include = openai.Bool(false), include
		p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: input}
		var hr *http.Response
		r, err := e.client.Responses.New(ctx, p, option.WithResponseInto(&hr))
		if err != nil {
			t.Fatalf("%q: %v", say, err)
		}
		for _, out := range r.Output {
			if out.Type == "reasoning" {
				rp := out.AsReasoning().ToParam()
				input = append(input, responses.ResponseInputItemUnionParam{OfReasoning: &rp})
			}
		}
		input = append(input, responses.ResponseInputItemParamOfOutputMessage(
			[]responses.ResponseOutputMessageContentUnionParam{{OfOutputText: &responses.ResponseOutputTextParam{Text: r.OutputText()}}},
			"msg_"+say, responses.ResponseOutputMessageStatusCompleted))
		return hr.Header.Get("X-Breakerd-Deployment")
	}
	if d := turn("one"); d != "a" {
		t.Fatalf("turn one at %s", d)
	}
	e.breaker("a:chat").ForceOpen("test")
	if d := turn("two"); d != "b" {
		t.Fatalf("turn two at %s", d)
	}
	e.breaker("a:chat").Reset("test")
	if d := turn("three"); d != "b" { // the latest reasoning's
		t.Fatalf("turn three at %s", d)
	}
	if body := e.mocks["b"].LastBody(); strings.Count(body, `"encrypted_content":"`) != 1 || !strings.Contains(body, "three") {
		t.Fatalf("b got %s: want its own reasoning only", body)
	}
	e.breaker("b:chat").ForceOpen("test")
	if d := turn("four"); d != "a" {
		t.Fatalf("turn four at %s", d)
	}
	if body := e.mocks["a"].LastBody(); strings.Count(body, `"encrypted_content":"`) != 1 {
		t.Fatalf("a got %s: want its own reasoning only", body)
	}
}

// A compaction (/v1/responses/compact, as Codex compacts a long session)
// falls back like any call, among deployments that serve it; its
// encrypted item then takes the next request to the deployment that made
// it. A route with none that serves it is the client's 400.
func TestCompactionFallsBackAndItsItemGoesHome(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	var hr *http.Response
	c, err := e.client.Responses.Compact(ctx, responses.ResponseCompactParams{Model: "gpt-4o",
		Input: responses.ResponseCompactParamsInputUnion{OfString: openai.String("a long session")}}, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	e.mocks["a"].Reset()
	last := c.Output[len(c.Output)-1]
	if hr.Header.Get("X-Breakerd-Deployment") != "b" || last.Type != "compaction" || !strings.HasPrefix(last.EncryptedContent, "litellm_enc:") {
		t.Fatalf("compacted by %s: %s", hr.Header.Get("X-Breakerd-Deployment"), c.RawJSON())
	}
	next := responseParams("gpt-4o", "", false)
	next.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfCompaction(last.EncryptedContent),
		responses.ResponseInputItemParamOfMessage("go on", responses.EasyInputMessageRoleUser),
	}}
	if _, err := e.client.Responses.New(ctx, next, option.WithResponseInto(&hr)); err != nil {
		t.Fatal(err)
	}
	if got := hr.Header.Get("X-Breakerd-Deployment"); got != "b" || e.mocks["a"].Stats().Requests != 0 {
		t.Fatalf("the request after the compaction went to %s", got)
	}
	// b down: a cannot read b's compaction, the conversation itself, and
	// it cannot be left out: a is not called, and the 503 says why.
	e.breaker("b:chat").ForceOpen("test")
	_, err = e.client.Responses.New(ctx, next)
	var openErr *openai.Error
	if !errors.As(err, &openErr) || openErr.StatusCode != 503 || !strings.Contains(openErr.Message, "a: cannot read the compaction another deployment encrypted") ||
		e.mocks["a"].Stats().Requests != 0 {
		t.Fatalf("with b open: %v", err)
	}

	e = newEnv(t, strings.Replace(bothWays, "  fallbacks: [{gpt-4o-mini: [claude]}, {claude: [gpt-4o-mini]}]\n", "", 1), "openai", "anthropic")
	_, err = e.client.Responses.Compact(ctx, responses.ResponseCompactParams{Model: "claude",
		Input: responses.ResponseCompactParamsInputUnion{OfString: openai.String("hi")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "responses/compact") || e.mocks["anthropic"].Stats().Requests != 0 {
		t.Fatalf("compacting on an Anthropic-only route: %v", err)
	}
}

// The Conversations API through the official SDK: a conversation is made
// at the first deployment that stores them and can (another when it
// fails), its id names that deployment, and the responses that join it,
// its items, and its own calls go there alone.
func TestConversationsStayWithTheirDeployment(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	conv, err := e.client.Conversations.New(ctx, conversations.ConversationNewParams{})
	if err != nil {
		t.Fatal(err)
	}
	e.mocks["a"].Reset()
	if _, d, up, ok := provider.DecodeConversationID(conv.ID); !ok || d != "b" || !strings.HasPrefix(up, "conv_mock_") {
		t.Fatalf("conversation id %s", conv.ID)
	}
	p := responseParams("gpt-4o", "remember the blue door", false)
	p.Conversation = responses.ResponseNewParamsConversationUnion{OfString: openai.String(conv.ID)}
	var hr *http.Response
	r, err := e.client.Responses.New(ctx, p, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Deployment") != "b" || r.Conversation.ID != conv.ID {
		t.Fatalf("the response went to %s, in conversation %q", hr.Header.Get("X-Breakerd-Deployment"), r.Conversation.ID)
	}
	items, err := e.client.Conversations.Items.List(ctx, conv.ID, conversations.ItemListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items.Data) != 2 || !strings.Contains(items.RawJSON(), "remember the blue door") {
		t.Fatalf("items %s", items.RawJSON())
	}
	if got, err := e.client.Conversations.Get(ctx, conv.ID); err != nil || got.ID != conv.ID {
		t.Fatalf("get: %v %+v", err, got)
	}
	if _, err := e.client.Conversations.Delete(ctx, conv.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Conversations.Get(ctx, conv.ID)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, conv.ID) {
		t.Fatalf("a deleted conversation: %v", err)
	}
	if n := e.mocks["a"].Stats().Requests; n != 0 {
		t.Fatalf("deployment a got %d calls after it was healed; it has none of b's conversations", n)
	}
}

// A server that speaks OpenAI's chat but not one of its stored objects'
// APIs (vLLM's, at openai/, answers /v1/conversations with FastAPI's bare
// 404) is fine for what it serves: the conversation is made at the next
// deployment that stores them, and its chat circuit stays closed.
func TestAServerWithoutTheConversationsAPIKeepsItsCircuit(t *testing.T) {
	chat := mockllm.New(mockllm.Options{Name: "vllm"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/conversations") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"Not Found"}`))
			return
		}
		chat.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	e := newEnv(t, strings.Replace(twoStores, "${MOCK_A}", srv.URL, 1), "b")
	conv, err := e.client.Conversations.New(context.Background(), conversations.ConversationNewParams{})
	if err != nil {
		t.Fatal(err)
	}
	if _, d, _, ok := provider.DecodeConversationID(conv.ID); !ok || d != "b" {
		t.Fatalf("conversation id %s, want it made at b", conv.ID)
	}
	if s := e.breaker("a:chat").Snapshot(); s.State != breaker.Closed || s.Counts.Failures != 0 {
		t.Fatalf("a's chat circuit %v with %d failures, want closed and none", s.State, s.Counts.Failures)
	}
	if _, _, err := e.chat("gpt-4o"); err != nil {
		t.Fatalf("chat after: %v", err)
	}
}

// A Responses request at a server that speaks only chat completions
// (vLLM's or Ollama's at openai/, answering /v1/responses with a bare
// 404) is made again there translated to chat, as for a provider without
// the API, and so are the next ones; its chat circuit stays closed. An
// API breakerd does not translate (legacy completions) that no server
// has gets a 404 that says so.
func TestAServerWithoutTheResponsesAPIServesItThroughChat(t *testing.T) {
	chat := mockllm.New(mockllm.Options{Name: "vllm"})
	var lacking atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/responses") || strings.HasSuffix(r.URL.Path, "/v1/completions") {
			lacking.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"Not Found"}`))
			return
		}
		chat.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx := context.Background()
	alone := strings.Replace(twoStores, "${MOCK_A}", srv.URL, 1)
	alone = alone[:strings.LastIndex(alone, "  - model_name: gpt-4o")] + alone[strings.Index(alone, "router_settings:"):]
	e := newEnv(t, alone)
	for i := range 2 {
		var hr *http.Response
		r, err := e.client.Responses.New(ctx, responseParams("gpt-4o", "hi", false), option.WithResponseInto(&hr))
		if err != nil || hr.Header.Get("X-Breakerd-Deployment") != "a" || !strings.Contains(r.OutputText(), "Hello from vllm") {
			t.Fatalf("request %d: %v, served by %q", i+1, err, hr.Header.Get("X-Breakerd-Deployment"))
		}
	}
	if n := lacking.Load(); n != 1 {
		t.Fatalf("%d calls to the missing path, want 1: the next request went translated", n)
	}
	if s := e.breaker("a:chat").Snapshot(); s.State != breaker.Closed || s.Counts.Failures != 0 {
		t.Fatalf("a's chat circuit %v with %d failures, want closed and none", s.State, s.Counts.Failures)
	}
	_, err := e.client.Completions.New(ctx, openai.CompletionNewParams{Model: "gpt-4o", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("hi")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || !strings.Contains(apiErr.Message, "do not have that API") {
		t.Fatalf("%v, want a 404 saying the servers lack the API", err)
	}
	if s := e.breaker("a:chat").Snapshot(); s.State != breaker.Closed {
		t.Fatalf("a's chat circuit %v after the completions request, want closed", s.State)
	}
}
