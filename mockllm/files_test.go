package mockllm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const batchInput = `{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-x","messages":[{"role":"user","content":"first question"}]}}
{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-x","messages":[{"role":"user","content":"second"}]}}
{"custom_id":"c","method":"POST","url":"/v1/embeddings","body":{"model":"emb","input":"wrong endpoint"}}
`

// The mock plays OpenAI's Files and Batch APIs for the official SDK: a
// file uploaded for a batch, the batch "validating" when made and done
// when polled, its output and error files with one line per request, a
// batch cancelled before it ran, lists, and a deleted file gone.
func TestFilesAndBatchesForTheSDK(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	ctx := context.Background()
	client := openai.NewClient(option.WithBaseURL(url+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))

	file, err := client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(batchInput), "in.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	if file.Filename != "in.jsonl" || file.Purpose != "batch" || file.Bytes != int64(len(batchInput)) || file.ExpiresAt == 0 {
		t.Fatalf("file = %+v", file)
	}
	batch, err := client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h, Metadata: map[string]string{"job": "nightly"}})
	if err != nil {
		t.Fatal(err)
	}
	if batch.Status != openai.BatchStatusValidating || batch.InputFileID != file.ID || batch.Metadata["job"] != "nightly" {
		t.Fatalf("new batch = %+v", batch)
	}
	done, err := client.Batches.Get(ctx, batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != openai.BatchStatusCompleted || done.RequestCounts.Total != 3 || done.RequestCounts.Completed != 2 || done.RequestCounts.Failed != 1 ||
		done.OutputFileID == "" || done.ErrorFileID == "" || done.Usage.InputTokens == 0 || done.Usage.OutputTokens == 0 {
		t.Fatalf("polled batch = %+v", done)
	}
	read := func(id string) []map[string]any {
		t.Helper()
		resp, err := client.Files.Content(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			lines = append(lines, v)
		}
		return lines
	}
	out := read(done.OutputFileID)
	if len(out) != 2 || out[0]["custom_id"] != "a" || !strings.Contains(mustJSON(out[0]["response"]), `"status_code":200`) ||
		!strings.Contains(mustJSON(out[0]["response"]), "chat.completion") {
		t.Fatalf("output = %v", out)
	}
	if errs := read(done.ErrorFileID); len(errs) != 1 || errs[0]["custom_id"] != "c" || !strings.Contains(mustJSON(errs[0]), "not the batch's endpoint") {
		t.Fatalf("errors = %v", errs)
	}

	second, err := client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := client.Batches.Cancel(ctx, second.ID); err != nil || c.Status != openai.BatchStatusCancelling {
		t.Fatalf("cancel = %+v, %v", c, err)
	}
	if c, err := client.Batches.Get(ctx, second.ID); err != nil || c.Status != openai.BatchStatusCancelled || c.OutputFileID != "" {
		t.Fatalf("cancelled = %+v, %v", c, err)
	}
	var apiErr *openai.Error
	if _, err := client.Batches.Cancel(ctx, batch.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict {
		t.Fatalf("cancelling a completed batch: %v", err)
	}

	batches, err := client.Batches.List(ctx, openai.BatchListParams{Limit: openai.Int(1)})
	if err != nil || len(batches.Data) != 1 || batches.Data[0].ID != second.ID || !batches.HasMore {
		t.Fatalf("batches, newest first = %+v, %v", batches, err)
	}
	inputs, err := client.Files.List(ctx, openai.FileListParams{Purpose: openai.String("batch")})
	if err != nil || len(inputs.Data) != 1 || inputs.Data[0].ID != file.ID {
		t.Fatalf("batch files = %+v, %v", inputs, err)
	}
	if del, err := client.Files.Delete(ctx, file.ID); err != nil || !del.Deleted {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	if _, err := client.Files.Get(ctx, file.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("a deleted file: %v", err)
	}
	if got := m.Stats().Files; got != 13 {
		t.Errorf("files calls = %d, want 13", got)
	}
}

// A batch file that is not one request per line, or a batch of an API the
// mock does not run, is OpenAI's 400; Azure OpenAI's paths serve the same.
func TestBatchInputIsChecked(t *testing.T) {
	_, url := newMock(t, Options{})
	ctx := context.Background()
	client := openai.NewClient(option.WithBaseURL(url+"/openai"), option.WithAPIKey("k"), option.WithMaxRetries(0),
		option.WithQuery("api-version", "2024-10-21"))
	var apiErr *openai.Error
	_, err := client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("{\"custom_id\":\"a\"}\nnot json\n"), "bad.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "line 1") {
		t.Fatalf("bad input: %v", err)
	}
	file, err := client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(batchInput), "in.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: openai.BatchNewParamsEndpointV1Videos, CompletionWindow: "24h"})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "Invalid endpoint") {
		t.Fatalf("unknown endpoint: %v", err)
	}
	_, err = client.Batches.New(ctx, openai.BatchNewParams{InputFileID: "file-nope", Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions, CompletionWindow: "24h"})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("unknown file: %v", err)
	}
}

// batch_polls keeps a batch in progress for that many looks, so a
// client's polling and a cancel of a batch in progress can be seen.
func TestBatchPollsKeepBatchesInProgress(t *testing.T) {
	m, url := newMock(t, Options{})
	m.SetFaults(Faults{BatchPolls: 2})
	ctx := context.Background()
	client := openai.NewClient(option.WithBaseURL(url+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	file, err := client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(batchInput), "in.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	newBatch := func() string {
		b, err := client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions, CompletionWindow: "24h"})
		if err != nil {
			t.Fatal(err)
		}
		return b.ID
	}
	id := newBatch()
	var seen []string
	for range 3 {
		b, err := client.Batches.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, string(b.Status))
	}
	if strings.Join(seen, ",") != "in_progress,in_progress,completed" {
		t.Fatalf("polls saw %v", seen)
	}
	id = newBatch()
	if b, _ := client.Batches.Get(ctx, id); b.Status != openai.BatchStatusInProgress {
		t.Fatalf("status %s", b.Status)
	}
	if b, err := client.Batches.Cancel(ctx, id); err != nil || b.Status != openai.BatchStatusCancelling {
		t.Fatalf("cancel in progress: %+v, %v", b, err)
	}
	if b, _ := client.Batches.Get(ctx, id); b.Status != openai.BatchStatusCancelled {
		t.Fatalf("status %s", b.Status)
	}
}
