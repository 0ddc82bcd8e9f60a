package mockllm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

func batchRequest(id, model, text string) anthropic.MessageBatchNewParamsRequest {
	return anthropic.MessageBatchNewParamsRequest{CustomID: id, Params: anthropic.MessageBatchNewParamsRequestParams{
		Model: anthropic.Model(model), MaxTokens: 64, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}}}
}

// The mock plays Anthropic's Message Batches for the official SDK: a
// batch in progress when made and ended when polled, its results (one
// succeeded, one errored) streamed by the SDK, a batch canceled before it
// ran, a page of batches, and delete only once a batch has ended.
func TestMessageBatchesForTheSDK(t *testing.T) {
	_, url := newMock(t, Options{Name: "m"})
	ctx := context.Background()
	client := anthropic.NewClient(option.WithBaseURL(url), option.WithAPIKey("k"), option.WithMaxRetries(0))

	batch, err := client.Messages.Batches.New(ctx, anthropic.MessageBatchNewParams{Requests: []anthropic.MessageBatchNewParamsRequest{
		batchRequest("ok", "claude-sonnet-4-5", "hello there"),
		{CustomID: "bad", Params: anthropic.MessageBatchNewParamsRequestParams{Model: "claude-sonnet-4-5", MaxTokens: 64}}, // no messages
	}})
	if err != nil {
		t.Fatal(err)
	}
	if batch.ProcessingStatus != anthropic.MessageBatchProcessingStatusInProgress || batch.RequestCounts.Processing != 2 {
		t.Fatalf("new batch = %+v", batch)
	}
	ended, err := client.Messages.Batches.Get(ctx, batch.ID, anthropic.MessageBatchGetParams{})
	if err != nil {
		t.Fatal(err)
	}
	if ended.ProcessingStatus != anthropic.MessageBatchProcessingStatusEnded || ended.RequestCounts.Succeeded+ended.RequestCounts.Errored != 2 ||
		!strings.HasSuffix(ended.ResultsURL, "/v1/messages/batches/"+batch.ID+"/results") {
		t.Fatalf("polled = %+v", ended)
	}
	stream := client.Messages.Batches.ResultsStreaming(ctx, batch.ID, anthropic.MessageBatchResultsParams{})
	got := map[string]string{}
	for stream.Next() {
		r := stream.Current()
		got[r.CustomID] = r.Result.Type
		if r.Result.Type == "succeeded" && !strings.Contains(r.Result.Message.Content[0].Text, "hello there") {
			t.Errorf("message = %+v", r.Result.Message)
		}
	}
	if err := stream.Err(); err != nil || got["ok"] != "succeeded" || got["bad"] != "errored" {
		t.Fatalf("results %v, %v", got, err)
	}

	second, err := client.Messages.Batches.New(ctx, anthropic.MessageBatchNewParams{Requests: []anthropic.MessageBatchNewParamsRequest{batchRequest("x", "claude-sonnet-4-5", "hi")}})
	if err != nil {
		t.Fatal(err)
	}
	var apiErr *anthropic.Error
	if _, err := client.Messages.Batches.Delete(ctx, second.ID, anthropic.MessageBatchDeleteParams{}); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Fatalf("deleting a batch in progress: %v", err)
	}
	if c, err := client.Messages.Batches.Cancel(ctx, second.ID, anthropic.MessageBatchCancelParams{}); err != nil || c.ProcessingStatus != anthropic.MessageBatchProcessingStatusCanceling {
		t.Fatalf("cancel = %+v, %v", c, err)
	}
	if c, err := client.Messages.Batches.Get(ctx, second.ID, anthropic.MessageBatchGetParams{}); err != nil || c.RequestCounts.Canceled != 1 {
		t.Fatalf("canceled = %+v, %v", c, err)
	}
	page, err := client.Messages.Batches.List(ctx, anthropic.MessageBatchListParams{Limit: anthropic.Int(1)})
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != second.ID || !page.HasMore {
		t.Fatalf("page = %+v, %v", page, err)
	}
	if d, err := client.Messages.Batches.Delete(ctx, batch.ID, anthropic.MessageBatchDeleteParams{}); err != nil || d.ID != batch.ID {
		t.Fatalf("delete = %+v, %v", d, err)
	}
	if _, err := client.Messages.Batches.Get(ctx, batch.ID, anthropic.MessageBatchGetParams{}); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("a deleted batch: %v", err)
	}
}

// batch_polls keeps a Message Batch in progress too.
func TestBatchPollsKeepMessageBatchesInProgress(t *testing.T) {
	m, url := newMock(t, Options{})
	m.SetFaults(Faults{BatchPolls: 1})
	ctx := context.Background()
	client := anthropic.NewClient(option.WithBaseURL(url), option.WithAPIKey("k"), option.WithMaxRetries(0))
	batch, err := client.Messages.Batches.New(ctx, anthropic.MessageBatchNewParams{Requests: []anthropic.MessageBatchNewParamsRequest{batchRequest("a", "claude-sonnet-4-5", "hi")}})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for range 2 {
		b, err := client.Messages.Batches.Get(ctx, batch.ID, anthropic.MessageBatchGetParams{})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, string(b.ProcessingStatus))
	}
	if strings.Join(seen, ",") != "in_progress,ended" {
		t.Fatalf("polls saw %v", seen)
	}
}

// The mock plays Anthropic's Files API for the official SDK, at OpenAI's
// paths: an upload, its metadata, a page, no download of an upload (as
// Anthropic's), delete.
func TestAnthropicFilesForTheSDK(t *testing.T) {
	_, url := newMock(t, Options{})
	ctx := context.Background()
	client := anthropic.NewClient(option.WithBaseURL(url), option.WithAPIKey("k"), option.WithMaxRetries(0))
	f, err := client.Beta.Files.Upload(ctx, anthropic.BetaFileUploadParams{File: anthropic.File(strings.NewReader("%PDF-1.4 report"), "report.pdf", "application/pdf"),
		Betas: []anthropic.AnthropicBeta{anthropic.AnthropicBetaFilesAPI2025_04_14}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.ID, "file_") || f.Filename != "report.pdf" || f.MimeType != "application/pdf" || f.SizeBytes != 15 || f.Downloadable {
		t.Fatalf("file = %+v", f)
	}
	beta := []anthropic.AnthropicBeta{anthropic.AnthropicBetaFilesAPI2025_04_14}
	if got, err := client.Beta.Files.GetMetadata(ctx, f.ID, anthropic.BetaFileGetMetadataParams{Betas: beta}); err != nil || got.ID != f.ID {
		t.Fatalf("metadata = %+v, %v", got, err)
	}
	if page, err := client.Beta.Files.List(ctx, anthropic.BetaFileListParams{Betas: beta}); err != nil || len(page.Data) != 1 {
		t.Fatalf("page = %+v, %v", page, err)
	}
	var apiErr *anthropic.Error
	if _, err := client.Beta.Files.Download(ctx, f.ID, anthropic.BetaFileDownloadParams{Betas: beta}); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Fatalf("download of an upload: %v", err)
	}
	if d, err := client.Beta.Files.Delete(ctx, f.ID, anthropic.BetaFileDeleteParams{Betas: beta}); err != nil || d.ID != f.ID {
		t.Fatalf("delete = %+v, %v", d, err)
	}

}
