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

// Anthropic's Files API (a beta, at OpenAI's paths) through breakerd
// with the official SDK: an upload goes to an Anthropic deployment (the
// first whose circuit lets it), its id names it, and its metadata, pages,
// delete and the Messages requests that use it (a document's file source)
// go there, under Anthropic's own id, with the client's beta. With no
// Anthropic deployment, the 404 says so in Anthropic's shape, and no
// OpenAI deployment gets the file.
func TestAnthropicFilesStayWithTheirDeployment(t *testing.T) {
	e := newEnv(t, twoClaudes, "a", "b")
	ctx := context.Background()
	client := e.anthropicClient()
	beta := []anthropic.AnthropicBeta{anthropic.AnthropicBetaFilesAPI2025_04_14}
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	for range 5 {
		_, _ = client.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude", MaxTokens: 16,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	}
	var hr *http.Response
	f, err := client.Beta.Files.Upload(ctx, anthropic.BetaFileUploadParams{File: anthropic.File(strings.NewReader("%PDF-1.4 report"), "report.pdf", "application/pdf"),
		Betas: beta}, aoption.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	_, d, upstream, ok := provider.DecodeAnthropicFileID(f.ID)
	if hr.Header.Get("X-Breakerd-Deployment") != "b" || !ok || d != "b" || !strings.HasPrefix(upstream, "file_mock") || f.Filename != "report.pdf" {
		t.Fatalf("uploaded to %s: %+v", hr.Header.Get("X-Breakerd-Deployment"), f)
	}
	e.mocks["a"].Reset()
	e.clock.Advance(10 * 60e9)
	e.breaker("a:chat").Reset("test: a is well")
	if got, err := client.Beta.Files.GetMetadata(ctx, f.ID, anthropic.BetaFileGetMetadataParams{Betas: beta}); err != nil || got.ID != f.ID {
		t.Fatalf("metadata = %+v, %v", got, err)
	}
	if page, err := client.Beta.Files.List(ctx, anthropic.BetaFileListParams{Betas: beta}); err != nil || len(page.Data) != 1 || page.Data[0].ID != f.ID {
		t.Fatalf("page = %+v, %v", page, err)
	}
	_, err = client.Beta.Messages.New(ctx, anthropic.BetaMessageNewParams{Model: "claude", MaxTokens: 32, Betas: beta,
		Messages: []anthropic.BetaMessageParam{anthropic.NewBetaUserMessage(
			anthropic.NewBetaDocumentBlock(anthropic.BetaFileDocumentSourceParam{FileID: f.ID}),
			anthropic.NewBetaTextBlock("summarise it"))}}, aoption.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Deployment") != "b" || !strings.Contains(e.mocks["b"].LastBody(), `"file_id":"`+upstream+`"`) {
		t.Fatalf("the message went to %s; b got %s", hr.Header.Get("X-Breakerd-Deployment"), e.mocks["b"].LastBody())
	}
	if del, err := client.Beta.Files.Delete(ctx, f.ID, anthropic.BetaFileDeleteParams{Betas: beta}); err != nil || del.ID != f.ID {
		t.Fatalf("delete = %+v, %v", del, err)
	}

	o := newEnv(t, twoStores, "a", "b")
	oc := o.anthropicClient()
	_, err = oc.Beta.Files.Upload(ctx, anthropic.BetaFileUploadParams{File: anthropic.File(strings.NewReader("notes"), "notes.txt", "text/plain"), Betas: beta})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || !strings.Contains(apiErr.RawJSON(), "only anthropic ones do") ||
		!strings.Contains(apiErr.RawJSON(), `"type":"error"`) {
		t.Fatalf("with no Anthropic deployment: %v", err)
	}
	if n := o.mocks["a"].Stats().Files + o.mocks["b"].Stats().Files; n != 0 {
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
