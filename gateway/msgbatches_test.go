package gateway_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"

	"github.com/breakerd/breakerd/mockllm"
	"github.com/breakerd/breakerd/provider"
)

const twoClaudes = `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_A}", api_key: sk-ant-a-secret}
    model_info: {id: a}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_B}", api_key: sk-ant-b-secret}
    model_info: {id: b}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`

func claudeBatchRequest(id, text string) anthropic.MessageBatchNewParamsRequest {
	return anthropic.MessageBatchNewParamsRequest{CustomID: id, Params: anthropic.MessageBatchNewParamsRequestParams{
		Model: "claude", MaxTokens: 64, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}}}
}

// Anthropic's Message Batches through breakerd with the official SDK:
// the batch goes to the first deployment whose circuit lets it through,
// with its requests naming the model as Anthropic knows it; its id names
// that deployment, and polling, results (at breakerd's own results_url),
// cancel and delete go there alone. Errors are Anthropic's shape.
func TestMessageBatchesStayWithTheirDeployment(t *testing.T) {
	e := newEnv(t, twoClaudes, "a", "b")
	ctx := context.Background()
	client := e.anthropicClient()
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	for range 5 {
		_, _ = client.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude", MaxTokens: 16,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	}
	if st := e.breaker("a:chat").State().String(); st != "open" {
		t.Fatalf("a's circuit is %s", st)
	}
	callsToA := e.mocks["a"].Stats().Requests

	var hr *http.Response
	batch, err := client.Messages.Batches.New(ctx, anthropic.MessageBatchNewParams{Requests: []anthropic.MessageBatchNewParamsRequest{
		claudeBatchRequest("one", "first question"), claudeBatchRequest("two", "second question")}}, aoption.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Deployment") != "b" || e.mocks["a"].Stats().Requests != callsToA {
		t.Fatalf("the batch went to %s", hr.Header.Get("X-Breakerd-Deployment"))
	}
	if _, d, up, ok := provider.DecodeMessageBatchID(batch.ID); !ok || d != "b" || !strings.HasPrefix(up, "msgbatch_mock") {
		t.Fatalf("batch id %s names %q, upstream %q", batch.ID, d, up)
	}
	if body := e.mocks["b"].LastBody(); strings.Count(body, `"model":"claude-sonnet-4-5"`) != 2 {
		t.Fatalf("b got %s", body)
	}
	e.mocks["a"].Reset()
	e.clock.Advance(10 * 60e9)

	ended, err := client.Messages.Batches.Get(ctx, batch.ID, anthropic.MessageBatchGetParams{})
	if err != nil {
		t.Fatal(err)
	}
	if ended.ProcessingStatus != anthropic.MessageBatchProcessingStatusEnded || ended.RequestCounts.Succeeded != 2 ||
		ended.ResultsURL != e.url+"/v1/messages/batches/"+batch.ID+"/results" {
		t.Fatalf("polled = %+v", ended)
	}
	stream := client.Messages.Batches.ResultsStreaming(ctx, batch.ID, anthropic.MessageBatchResultsParams{})
	got := map[string]string{}
	for stream.Next() {
		r := stream.Current()
		got[r.CustomID] = r.Result.Message.Content[0].Text
	}
	if err := stream.Err(); err != nil || !strings.Contains(got["one"], "first question") || !strings.Contains(got["two"], "second question") {
		t.Fatalf("results %v, %v", got, err)
	}
	if got := e.mocks["a"].Stats().Files; got != 0 {
		t.Errorf("a got %d batch calls", got)
	}
	// The list asks both; only b has a batch.
	page, err := client.Messages.Batches.List(ctx, anthropic.MessageBatchListParams{})
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != batch.ID || page.Data[0].ResultsURL != ended.ResultsURL {
		t.Fatalf("page = %+v, %v", page, err)
	}
	if d, err := client.Messages.Batches.Delete(ctx, batch.ID, anthropic.MessageBatchDeleteParams{}); err != nil || d.ID != batch.ID {
		t.Fatalf("delete = %+v, %v", d, err)
	}
	var apiErr *anthropic.Error
	_, err = client.Messages.Batches.Get(ctx, batch.ID, anthropic.MessageBatchGetParams{})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || !strings.Contains(apiErr.RawJSON(), `"type":"error"`) ||
		strings.Contains(apiErr.RawJSON(), "msgbatch_mock") {
		t.Fatalf("a deleted batch: %v", err)
	}
}

// A model with no deployment on Anthropic's own API (here, OpenAI's)
// cannot run Message Batches: a 400 in Anthropic's shape that says so.
func TestMessageBatchesNeedAnthropicsAPI(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	client := e.anthropicClient()
	_, err := client.Messages.Batches.New(context.Background(), anthropic.MessageBatchNewParams{
		Requests: []anthropic.MessageBatchNewParamsRequest{{CustomID: "x", Params: anthropic.MessageBatchNewParamsRequestParams{
			Model: "gpt-4o", MaxTokens: 8, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}}}})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.RawJSON(), "only anthropic ones do") {
		t.Fatalf("err = %v", err)
	}
}

// Anthropic's Files API (a beta) shares OpenAI's paths: an Anthropic
// SDK's upload gets a 404 in Anthropic's shape that says breakerd serves
// OpenAI's there, and no OpenAI deployment gets the file.
func TestAnthropicsFilesAreNotOpenAIs(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	client := e.anthropicClient()
	_, err := client.Beta.Files.Upload(context.Background(), anthropic.BetaFileUploadParams{
		File: anthropic.File(strings.NewReader("notes"), "notes.txt", "text/plain")})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || !strings.Contains(apiErr.RawJSON(), "not Anthropic's") ||
		!strings.Contains(apiErr.RawJSON(), `"type":"not_found_error"`) {
		t.Fatalf("err = %v", err)
	}
	if n := e.mocks["a"].Stats().Files + e.mocks["b"].Stats().Files; n != 0 {
		t.Fatalf("%d files calls reached OpenAI deployments", n)
	}
}

// A Message Batch's tokens are in its results, not its object: read
// whole through breakerd, they are charged once at the deployment's batch
// prices (half Claude's list prices here) to its budget.
func TestMessageBatchesAreChargedByTheirResults(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: "${MOCK_A}", api_key: sk-ant-a-secret, max_budget: 1000, budget_duration: 1d}
`, "a")
	ctx := context.Background()
	client := e.anthropicClient()
	batch, err := client.Messages.Batches.New(ctx, anthropic.MessageBatchNewParams{Requests: []anthropic.MessageBatchNewParamsRequest{
		claudeBatchRequest("one", "first question"), claudeBatchRequest("two", "second question, a longer one")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Messages.Batches.Get(ctx, batch.ID, anthropic.MessageBatchGetParams{}); err != nil {
		t.Fatal(err)
	}
	budget := e.gw.Budgets()[0]
	var in, out int64
	for range 2 { // the second download charges nothing more
		stream := client.Messages.Batches.ResultsStreaming(ctx, batch.ID, anthropic.MessageBatchResultsParams{})
		in, out = 0, 0
		for stream.Next() {
			u := stream.Current().Result.Message.Usage
			in, out = in+u.InputTokens, out+u.OutputTokens
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := (float64(in)*1.5 + float64(out)*7.5) / 1e6
	if spent, _ := budget.Spent(e.clock.Now()); out == 0 || math.Abs(spent-want) > 1e-15 {
		t.Fatalf("spent %v, want %v once", spent, want)
	}
}
