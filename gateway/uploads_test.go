package gateway_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's Uploads API through breakerd with the official SDK: an upload
// is made at a deployment that stores files (the first whose circuit lets
// it through), its id names it, its parts
// (each larger than server.max_body_bytes, relayed as they come) and its
// completion go there, and the file it makes is named as breakerd names
// files, so its content downloads and a batch runs on it; a cancelled
// upload takes no more parts.
func TestUploadsStayWithTheirDeployment(t *testing.T) {
	e := newEnv(t, strings.Replace(twoStores, "router_settings:", "server: {max_body_bytes: 1000}\nrouter_settings:", 1), "a", "b")
	ctx := context.Background()
	lines := batchLines + strings.Repeat(" ", 4000) + "\n"
	half := len(lines) / 2
	openCircuitOfA(t, e) // the upload is made at b
	up, err := e.client.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(lines)), Filename: "requests.jsonl",
		MimeType: "application/jsonl", Purpose: openai.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	_, at, _, ok := provider.DecodeUploadID(up.ID)
	if !ok || at != "b" || up.Status != "pending" {
		t.Fatalf("upload %s at %q (%s), want breakerd's id, at b, pending", up.ID, at, up.Status)
	}
	e.clock.Advance(10 * 60e9)
	e.breaker("a:chat").Reset("test: a is well") // first again: the upload's calls still go to b
	e.mocks["a"].Reset()
	var parts []string
	for _, chunk := range []string{lines[:half], lines[half:]} {
		p, err := e.client.Uploads.Parts.New(ctx, up.ID, openai.UploadPartNewParams{Data: strings.NewReader(chunk)})
		if err != nil {
			t.Fatal(err)
		}
		if p.UploadID != up.ID {
			t.Fatalf("a part of %s names %s", up.ID, p.UploadID)
		}
		parts = append(parts, p.ID)
	}
	done, err := e.client.Uploads.Complete(ctx, up.ID, openai.UploadCompleteParams{PartIDs: parts})
	if err != nil {
		t.Fatal(err)
	}
	_, fileAt, _, ok := provider.DecodeFileID(done.File.ID)
	if done.Status != "completed" || done.ID != up.ID || !ok || fileAt != at {
		t.Fatalf("completed %s %s, file %s at %q: want the file at %s", done.ID, done.Status, done.File.ID, fileAt, at)
	}
	content, err := e.client.Files.Content(ctx, done.File.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(content.Body)
	content.Body.Close()
	if !bytes.Equal(got, []byte(lines)) {
		t.Fatalf("the file holds %d bytes, want the parts' %d", len(got), len(lines))
	}
	batch, err := e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: done.File.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatal(err)
	}
	if _, d, _, _ := provider.DecodeBatchID(batch.ID); d != at {
		t.Fatalf("the batch is at %s, want %s", d, at)
	}

	other, err := e.client.Uploads.New(ctx, openai.UploadNewParams{Bytes: 3, Filename: "x.txt", MimeType: "text/plain", Purpose: openai.FilePurposeAssistants})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := e.client.Uploads.Cancel(ctx, other.ID); err != nil || c.Status != "cancelled" {
		t.Fatalf("cancel: %+v, %v", c, err)
	}
	if _, err := e.client.Uploads.Parts.New(ctx, other.ID, openai.UploadPartNewParams{Data: strings.NewReader("abc")}); err == nil {
		t.Fatal("a cancelled upload took a part")
	}
	if _, err := e.client.Uploads.Parts.New(ctx, "upload_unknown", openai.UploadPartNewParams{Data: strings.NewReader("abc")}); err == nil {
		t.Fatal("an upload breakerd did not give took a part")
	}
}
