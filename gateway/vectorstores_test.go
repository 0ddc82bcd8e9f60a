package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/breakerd/breakerd/provider"
)

// The Vector Stores API through breakerd with the official SDK: a store
// made from a file is made where the file is (not at the first
// deployment), its id names that deployment, and its search, files,
// file batches and the Responses requests whose file_search searches it
// go there, under the upstream's ids, answering with breakerd's. A store
// made empty goes to the first deployment that takes it, lists span
// both, and a file of another deployment cannot join a store.
func TestVectorStoresStayWithTheirFiles(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	openCircuitOfA(t, e)
	report, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("the quarterly report: revenue grew"), "report.txt", "text/plain"),
		Purpose: openai.FilePurposeAssistants})
	if err != nil {
		t.Fatal(err)
	}
	if _, d, _, _ := provider.DecodeFileID(report.ID); d != "b" {
		t.Fatalf("the file went to %s, want b (a's circuit is open)", d)
	}
	e.clock.Advance(10 * 60e9)
	e.breaker("a:chat").Reset("test: a is well")
	e.mocks["a"].Reset()

	vs, err := e.client.VectorStores.New(ctx, openai.VectorStoreNewParams{Name: openai.String("kb"), FileIDs: []string{report.ID}})
	if err != nil {
		t.Fatal(err)
	}
	_, d, upstreamVS, ok := provider.DecodeVectorStoreID(vs.ID)
	if !ok || d != "b" || vs.FileCounts.Completed != 1 {
		t.Fatalf("store %s at %q with %d files: want it at b, where its file is", vs.ID, d, vs.FileCounts.Completed)
	}
	if n := e.mocks["a"].Stats().Files; n != 0 {
		t.Fatalf("a got %d calls", n)
	}

	found, err := e.client.VectorStores.Search(ctx, vs.ID, openai.VectorStoreSearchParams{
		Query: openai.VectorStoreSearchParamsQueryUnion{OfString: openai.String("revenue")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Data) != 1 || found.Data[0].FileID != report.ID || !strings.Contains(found.Data[0].Content[0].Text, "revenue grew") {
		t.Fatalf("search: %+v; want the report under the id breakerd gave it", found.Data)
	}
	files, err := e.client.VectorStores.Files.List(ctx, vs.ID, openai.VectorStoreFileListParams{})
	if err != nil || len(files.Data) != 1 || files.Data[0].ID != report.ID || files.Data[0].VectorStoreID != vs.ID {
		t.Fatalf("files: %v %+v", err, files)
	}
	if f, err := e.client.VectorStores.Files.Get(ctx, vs.ID, report.ID); err != nil || f.ID != report.ID {
		t.Fatalf("a store's file by breakerd's id: %v %+v", err, f)
	}
	content, err := e.client.VectorStores.Files.Content(ctx, vs.ID, report.ID)
	if err != nil || len(content.Data) != 1 || !strings.Contains(content.Data[0].Text, "quarterly") {
		t.Fatalf("content: %v %+v", err, content)
	}
	batch, err := e.client.VectorStores.FileBatches.New(ctx, vs.ID, openai.VectorStoreFileBatchNewParams{FileIDs: []string{report.ID}})
	if err != nil || batch.VectorStoreID != vs.ID {
		t.Fatalf("file batch: %v %+v", err, batch)
	}
	if got, err := e.client.VectorStores.FileBatches.Get(ctx, vs.ID, batch.ID); err != nil || got.Status != "completed" {
		t.Fatalf("file batch: %v %+v", err, got)
	}

	// file_search's stores route the request, as a file does.
	var hr *http.Response
	_, err = e.client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("what grew?")},
		Tools: []responses.ToolUnionParam{responses.ToolParamOfFileSearch([]string{vs.ID})}}, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Deployment") != "b" || !strings.Contains(e.mocks["b"].LastBody(), `"vector_store_ids":["`+upstreamVS+`"]`) {
		t.Fatalf("the Responses request went to %s; b got %s", hr.Header.Get("X-Breakerd-Deployment"), e.mocks["b"].LastBody())
	}

	// An empty store goes to the first deployment; a's file cannot join b's store.
	empty, err := e.client.VectorStores.New(ctx, openai.VectorStoreNewParams{Name: openai.String("empty")})
	if err != nil {
		t.Fatal(err)
	}
	if _, d, _, _ := provider.DecodeVectorStoreID(empty.ID); d != "a" {
		t.Fatalf("the empty store went to %s, want a", d)
	}
	onA, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("notes"), "notes.txt", "text/plain"),
		Purpose: openai.FilePurposeAssistants})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.VectorStores.Files.New(ctx, vs.ID, openai.VectorStoreFileNewParams{FileID: onA.ID})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.RawJSON(), "no one upstream has both") {
		t.Fatalf("a file of a joining b's store: %v", err)
	}
	if f, err := e.client.VectorStores.Files.New(ctx, empty.ID, openai.VectorStoreFileNewParams{FileID: onA.ID}); err != nil || f.ID != onA.ID || f.VectorStoreID != empty.ID {
		t.Fatalf("a file of a joining a's store: %v %+v", err, f)
	}
	list, err := e.client.VectorStores.List(ctx, openai.VectorStoreListParams{})
	if err != nil || len(list.Data) != 2 {
		t.Fatalf("list: %v %+v", err, list)
	}
	for _, id := range []string{vs.ID, empty.ID} {
		if !strings.Contains(list.RawJSON(), `"`+id+`"`) {
			t.Fatalf("list lacks %s: %s", id, list.RawJSON())
		}
	}

	if del, err := e.client.VectorStores.Files.Delete(ctx, vs.ID, report.ID); err != nil || !del.Deleted || del.ID != report.ID {
		t.Fatalf("removing the file: %v %+v", err, del)
	}
	if del, err := e.client.VectorStores.Delete(ctx, vs.ID); err != nil || !del.Deleted || del.ID != vs.ID {
		t.Fatalf("deleting the store: %v %+v", err, del)
	}
}
