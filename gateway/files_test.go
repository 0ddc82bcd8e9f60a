package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/responses"

	"github.com/breakerd/breakerd/mockllm"
	"github.com/breakerd/breakerd/provider"
)

const batchLines = `{"custom_id":"q1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[{"role":"user","content":"one"}]}}
{"custom_id":"q2","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[{"role":"user","content":"two"}]}}
`

// openCircuitOfA fails deployment a's chat calls until its circuit opens.
func openCircuitOfA(t *testing.T, e *env) {
	t.Helper()
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for range 5 {
		_, _ = e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, option.WithMaxRetries(0))
	}
	if st := e.gw.Route("gpt-4o")[0].Breakers[provider.Chat].State().String(); st != "open" {
		t.Fatalf("a's circuit is %s", st)
	}
}

func uploadBatchFile(t *testing.T, e *env, opts ...option.RequestOption) (*openai.FileObject, *http.Response) {
	t.Helper()
	var hr *http.Response
	f, err := e.client.Files.New(context.Background(), openai.FileNewParams{
		File: openai.File(strings.NewReader(batchLines), "requests.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch},
		append(opts, option.WithResponseInto(&hr))...)
	if err != nil {
		t.Fatal(err)
	}
	return f, hr
}

// A batch's whole life through breakerd with the official SDK: the file
// goes to the first deployment whose circuit lets it through, its id
// names that deployment, and the batch made from it, its polling, its
// output file and its cancel all go there, even when routing would pick
// another.
func TestBatchStaysWithItsFilesDeployment(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	// a's 503s open its circuit; the upload then goes to b with no call
	// to a.
	openCircuitOfA(t, e)
	callsToA := e.mocks["a"].Stats().Requests
	file, hr := uploadBatchFile(t, e)
	if got := hr.Header.Get("X-Breakerd-Deployment"); got != "b" || e.mocks["a"].Stats().Requests != callsToA {
		t.Fatalf("the upload went to %s (calls to a %d, were %d)", got, e.mocks["a"].Stats().Requests, callsToA)
	}
	if _, d, up, ok := provider.DecodeFileID(file.ID); !ok || d != "b" || !strings.HasPrefix(up, "file-mock") {
		t.Fatalf("file id %s names %q, upstream %q", file.ID, d, up)
	}
	if file.Filename != "requests.jsonl" || file.Bytes != int64(len(batchLines)) {
		t.Fatalf("file = %+v", file)
	}
	e.mocks["a"].Reset()
	e.clock.Advance(10 * 60e9) // a's circuit may let calls through again

	batch, err := e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatal(err)
	}
	if batch.InputFileID != file.ID || batch.Status != openai.BatchStatusValidating {
		t.Fatalf("batch = %+v", batch)
	}
	if _, d, _, ok := provider.DecodeBatchID(batch.ID); !ok || d != "b" {
		t.Fatalf("batch id %s names %q", batch.ID, d)
	}
	done, err := e.client.Batches.Get(ctx, batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != openai.BatchStatusCompleted || done.RequestCounts.Completed != 2 {
		t.Fatalf("polled = %+v", done)
	}
	if _, d, _, ok := provider.DecodeFileID(done.OutputFileID); !ok || d != "b" {
		t.Fatalf("output file id %s names %q", done.OutputFileID, d)
	}
	content, err := e.client.Files.Content(ctx, done.OutputFileID)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(content.Body)
	content.Body.Close()
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 2 || !strings.Contains(lines[0], `"custom_id":"q1"`) ||
		!strings.Contains(lines[0], "chat.completion") {
		t.Fatalf("output = %s", out)
	}
	if ct := content.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("content type %q", ct)
	}
	var apiErr *openai.Error
	if _, err := e.client.Batches.Cancel(ctx, batch.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict || strings.Contains(apiErr.Message, "batch_mock") {
		t.Fatalf("cancelling a finished batch: %v", err)
	}
	if got := e.mocks["a"].Stats().Files; got != 0 {
		t.Errorf("a got %d files calls", got)
	}

	if del, err := e.client.Files.Delete(ctx, file.ID); err != nil || !del.Deleted || del.ID != file.ID {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	if _, err := e.client.Files.Get(ctx, file.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound ||
		!strings.Contains(apiErr.Message, file.ID) || strings.Contains(apiErr.Message, "file-mock") {
		t.Fatalf("a deleted file: %v", err)
	}
}

// Lists gather every deployment's files, newest first, each under the id
// clients get; a page after an id goes on after it at every deployment; a
// deployment that cannot answer is named, not hidden.
func TestFileListsSpanDeployments(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	onA, _ := uploadBatchFile(t, e)
	openCircuitOfA(t, e)
	onB, hr := uploadBatchFile(t, e)
	if hr.Header.Get("X-Breakerd-Deployment") != "b" {
		t.Fatal("the second upload did not go to b")
	}
	var lh *http.Response
	list, err := e.client.Files.List(ctx, openai.FileListParams{}, option.WithResponseInto(&lh))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].ID != onB.ID || !strings.Contains(lh.Header.Get("X-Breakerd-Unlisted"), "a (circuit open)") {
		t.Fatalf("with a's circuit open: %+v, unlisted %q", list.Data, lh.Header.Get("X-Breakerd-Unlisted"))
	}
	e.mocks["a"].Reset()
	e.clock.Advance(10 * 60e9)
	list, err = e.client.Files.List(ctx, openai.FileListParams{Order: openai.FileListParamsOrderAsc})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 2 || list.Data[0].ID == list.Data[1].ID || list.Data[0].CreatedAt > list.Data[1].CreatedAt ||
		(list.Data[0].ID != onA.ID && list.Data[0].ID != onB.ID) || (list.Data[1].ID != onA.ID && list.Data[1].ID != onB.ID) {
		t.Fatalf("both, oldest first: %+v", list.Data)
	}
	// A page at a time: each goes on after the last, across deployments.
	var paged []string
	after := param.Opt[string]{}
	for range 3 {
		page, err := e.client.Files.List(ctx, openai.FileListParams{Limit: openai.Int(1), After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Data {
			paged = append(paged, f.ID)
		}
		if !page.HasMore {
			break
		}
		after = openai.String(page.Data[len(page.Data)-1].ID)
	}
	if len(paged) != 2 || !slices.Contains(paged, onA.ID) || !slices.Contains(paged, onB.ID) {
		t.Fatalf("a file a page: %v, want %s and %s once each", paged, onA.ID, onB.ID)
	}
	var byModel *http.Response
	if _, err := e.client.Files.List(ctx, openai.FileListParams{}, option.WithHeader("x-litellm-model", "nope"), option.WithResponseInto(&byModel)); err == nil {
		t.Fatal("an unknown model listed files")
	}
}

// LiteLLM's x-litellm-model header sends an upload to that model's
// deployments; a model with none that stores files is a 400 that says so,
// and a batch of a file breakerd did not issue, with several deployments
// that could have it, is a 404 that says why.
func TestUploadByModel(t *testing.T) {
	e := newEnv(t, strings.Replace(twoStores, "model_list:\n", "model_list:\n  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: \"${MOCK_A}\", api_key: sk-c}\n", 1), "a", "b")
	ctx := context.Background()
	var apiErr *openai.Error
	_, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(batchLines), "r.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch},
		option.WithHeader("x-litellm-model", "claude"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "no deployment that stores files") {
		t.Fatalf("claude: %v", err)
	}
	f, hr := uploadBatchFile(t, e, option.WithHeader("x-litellm-model", "gpt-4o"))
	if hr.Header.Get("X-Breakerd-Deployment") != "a" || f.ID == "" {
		t.Fatalf("gpt-4o's upload went to %q", hr.Header.Get("X-Breakerd-Deployment"))
	}
	_, err = e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: "file-notours", Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions, CompletionWindow: "24h"})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || !strings.Contains(apiErr.Message, "breakerd did not issue it") {
		t.Fatalf("a foreign file: %v", err)
	}
}

// LiteLLM's managed-batch config: a batch model on Azure OpenAI, which
// knows the model only by its deployment's name. A file uploaded for the
// model (x-litellm-model) reaches Azure with its requests naming the
// deployment, so the batch runs there; the client never sees the
// rename, and its own lines for other models are left alone.
func TestBatchFileNamesTheAzureDeployment(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o-batch
    litellm_params: {model: azure/gpt-4o-mini-general-deployment, api_base: "${MOCK_A}", api_key: az-key-1, api_version: "2024-10-21"}
    model_info: {mode: batch}
router_settings:
  model_group_alias: {nightly: gpt-4o-batch}
`, "a")
	ctx := context.Background()
	lines := `{"custom_id":"1","method":"POST","url":"/chat/completions","body":{"model":"gpt-4o-batch","messages":[{"role":"user","content":"one"}]}}
{"custom_id":"2","method":"POST","url":"/chat/completions","body":{"model":"nightly","messages":[{"role":"user","content":"two"}]}}
{"custom_id":"3","method":"POST","url":"/chat/completions","body":{"model":"someone-else","messages":[{"role":"user","content":"three"}]}}
`
	file, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(lines), "nightly.jsonl", "application/jsonl"),
		Purpose: openai.FilePurposeBatch}, option.WithHeader("x-litellm-model", "gpt-4o-batch"))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: "/chat/completions", CompletionWindow: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.client.Batches.Get(ctx, batch.ID)
	if err != nil || done.Status != openai.BatchStatusCompleted || done.RequestCounts.Completed != 3 {
		t.Fatalf("batch = %+v, %v", done, err)
	}
	read := func(id string) string {
		t.Helper()
		resp, err := e.client.Files.Content(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	stored := read(file.ID)
	if strings.Count(stored, `"model":"gpt-4o-mini-general-deployment"`) != 2 || !strings.Contains(stored, `"model":"someone-else"`) ||
		len(stored) != len(lines)+2*len("gpt-4o-mini-general-deployment")-len("gpt-4o-batch")-len("nightly") {
		t.Fatalf("Azure stored:\n%s", stored)
	}
	if out := read(done.OutputFileID); strings.Count(out, `"model":"gpt-4o-mini-general-deployment"`) != 2 {
		t.Fatalf("output:\n%s", out)
	}

	// A form that breaks off is the client's 400, not a failure of Azure.
	req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/files", strings.NewReader("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n{\"custom_id\""))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
	req.Header.Set("X-Litellm-Model", "gpt-4o-batch")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "could not read the upload") {
		t.Fatalf("a broken form: %d %s", resp.StatusCode, msg)
	}
	if c := e.breaker("gpt-4o-batch/azure/gpt-4o-mini-general-deployment:chat").Counts(); c.Failures != 0 {
		t.Errorf("the broken form counted against Azure: %+v", c)
	}
}

// The Files and Batch APIs are other services than chat at a provider:
// the chat circuit gates them, but their failures do not open it (chat
// traffic stays), and their successes do not close one that is testing
// recovery.
func TestFileCallsDoNotJudgeChat(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	br := e.breaker("a:chat")
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	for range 6 {
		_, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(batchLines), "r.jsonl", "application/jsonl"),
			Purpose: openai.FilePurposeBatch}, option.WithHeader("x-litellm-model", "gpt-4o"), option.WithMaxRetries(0))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError {
			t.Fatalf("upload during a files outage: %v", err)
		}
	}
	if c := br.Counts(); br.State().String() != "closed" || c.Failures != 0 {
		t.Fatalf("files failures judged chat: %s, %+v", br.State(), c)
	}
	// The on-call still reads why: one log line (a second's worth).
	if logs := e.logs.String(); !strings.Contains(logs, `"operation":"files (not counted toward chat's breaker)"`) || !strings.Contains(logs, `"status":500`) {
		t.Fatalf("logs:\n%s", logs)
	}

	openCircuitOfA(t, e)
	e.mocks["a"].Reset()
	e.clock.Advance(10 * 60e9) // a's circuit lets a trial through
	if _, err := e.client.Files.List(ctx, openai.FileListParams{}); err != nil {
		t.Fatal(err)
	}
	if st := br.State().String(); st == "closed" {
		t.Fatal("a files call closed the chat circuit")
	}
}

// LiteLLM's files_settings: an upload that names no model goes to the
// account of its custom_llm_provider (openai when it names none), and its
// batches, polls and output follow it; an upload for a model still goes
// to that model's deployment. The account's key never reaches a client.
func TestFilesSettingsHoldUploadsWithoutAModel(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-model-secret}
files_settings:
  - custom_llm_provider: openai
    api_base: "${MOCK_B}/v1"
    api_key: sk-files-secret
  - custom_llm_provider: azure
    api_base: "${MOCK_C}"
    api_key: az-files-secret
    api_version: "2024-10-21"
`, "a", "b", "c")
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		opts   []option.RequestOption
		holder string // the deployment that has the file
		mock   string
	}{
		{"no model, no provider: openai's account", nil, "files_settings/openai", "b"},
		{"custom_llm_provider azure", []option.RequestOption{option.WithQuery("custom_llm_provider", "azure")}, "files_settings/azure", "c"},
		{"the header, as LiteLLM reads it too", []option.RequestOption{option.WithHeader("custom-llm-provider", "azure")}, "files_settings/azure", "c"},
		{"a model", []option.RequestOption{option.WithHeader("x-litellm-model", "gpt-4o")}, "gpt-4o/openai/gpt-4o", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.mocks[tc.mock].Stats().Files
			file, hr := uploadBatchFile(t, e, tc.opts...)
			if got := hr.Header.Get("X-Breakerd-Deployment"); got != tc.holder || e.mocks[tc.mock].Stats().Files != before+1 {
				t.Fatalf("the upload went to %s", got)
			}
			batch, err := e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions,
				CompletionWindow: openai.BatchNewParamsCompletionWindow24h})
			if err != nil {
				t.Fatal(err)
			}
			if done, err := e.client.Batches.Get(ctx, batch.ID); err != nil || done.Status != openai.BatchStatusCompleted {
				t.Fatalf("batch = %+v, %v", done, err)
			}
			if _, d, _, _ := provider.DecodeBatchID(batch.ID); d != tc.holder || e.mocks[tc.mock].Stats().Files != before+3 {
				t.Fatalf("the batch is at %s", d)
			}
		})
	}
	var apiErr *openai.Error
	_, err := e.client.Files.List(ctx, openai.FileListParams{}, option.WithQuery("custom_llm_provider", "vertex_ai"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "files_settings has no vertex_ai account (it has openai, azure)") {
		t.Fatalf("an account files_settings lacks: %v", err)
	}
	if strings.Contains(e.logs.String(), "sk-files-secret") || strings.Contains(e.logs.String(), "az-files-secret") {
		t.Fatal("a files_settings key in the logs")
	}
}

// LiteLLM's own form fields, as its docs have Python's SDK send them
// (extra_body, written before the file) and the Go SDK (after it):
// custom_llm_provider picks the files_settings account,
// target_model_names the model; neither reaches the upstream, which would
// refuse it.
func TestUploadFormFieldsRoute(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o-batch
    litellm_params: {model: azure/gpt-4o-mini-general, api_base: "${MOCK_A}", api_key: az-model-key, api_version: "2024-10-21"}
files_settings:
  - {custom_llm_provider: openai, api_base: "${MOCK_B}/v1", api_key: sk-files-secret}
  - {custom_llm_provider: azure, api_base: "${MOCK_C}", api_key: az-files-secret}
`, "a", "b", "c")
	upload := func(fields [][2]string) (*http.Response, string) {
		t.Helper()
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, f := range append([][2]string{{"purpose", "batch"}}, fields...) {
			_ = w.WriteField(f[0], f[1])
		}
		fw, _ := w.CreateFormFile("file", "requests.jsonl")
		_, _ = io.WriteString(fw, strings.ReplaceAll(batchLines, `"gpt-4o"`, `"gpt-4o-batch"`))
		_ = w.Close()
		req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/files", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(data)
	}
	for _, tc := range []struct {
		name   string
		fields [][2]string
		holder string
		mock   string
		model  string // the model the stored lines name
	}{
		{"custom_llm_provider", [][2]string{{"custom_llm_provider", "azure"}}, "files_settings/azure", "c", "gpt-4o-batch"},
		{"target_model_names", [][2]string{{"target_model_names", "gpt-4o-batch"}}, "gpt-4o-batch/azure/gpt-4o-mini-general", "a", "gpt-4o-mini-general"},
		{"neither", nil, "files_settings/openai", "b", "gpt-4o-batch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := upload(tc.fields)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Breakerd-Deployment") != tc.holder {
				t.Fatalf("%d at %q: %s", resp.StatusCode, resp.Header.Get("X-Breakerd-Deployment"), body)
			}
			sent := e.mocks[tc.mock].LastBody()
			if strings.Contains(sent, "custom_llm_provider") || strings.Contains(sent, "target_model_names") ||
				!strings.Contains(sent, `name="purpose"`) || strings.Count(sent, `"model":"`+tc.model+`"`) != 2 {
				t.Fatalf("%s got:\n%s", tc.mock, sent)
			}
		})
	}
	// The official Go SDK writes an extra field after the file.
	params := openai.FileNewParams{File: openai.File(strings.NewReader(strings.ReplaceAll(batchLines, `"gpt-4o"`, `"gpt-4o-batch"`)), "requests.jsonl", "application/jsonl"),
		Purpose: openai.FilePurposeBatch}
	params.SetExtraFields(map[string]any{"target_model_names": "gpt-4o-batch"})
	var hr *http.Response
	if _, err := e.client.Files.New(context.Background(), params, option.WithResponseInto(&hr)); err != nil {
		t.Fatal(err)
	}
	if got := hr.Header.Get("X-Breakerd-Deployment"); got != "gpt-4o-batch/azure/gpt-4o-mini-general" {
		t.Fatalf("the Go SDK's upload at %q, want the model's deployment", got)
	}
	if sent := e.mocks["a"].LastBody(); strings.Contains(sent, "target_model_names") || strings.Count(sent, `"model":"gpt-4o-mini-general"`) != 2 {
		t.Fatalf("a got:\n%s", sent)
	}
}

// A files_settings account serves files alone: its calls judge its
// breaker, so an account that fails is given up for a while (a 503 with
// Retry-After and no call), not called again with every upload.
func TestFilesSettingsAccountHasACircuit(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-model-secret}
files_settings:
  - {custom_llm_provider: openai, api_base: "${MOCK_B}/v1", api_key: sk-files-secret}
router_settings:
  circuit_breaker: {failure_threshold: 3, recovery_timeout: 30}
`, "a", "b")
	ctx := context.Background()
	e.mocks["b"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	var apiErr *openai.Error
	for range 3 {
		_, err := e.client.Files.List(ctx, openai.FileListParams{})
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a failing account: %v", err)
		}
	}
	calls := e.mocks["b"].Stats().Requests
	var hr *http.Response
	_, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(batchLines), "r.jsonl", "application/jsonl"),
		Purpose: openai.FilePurposeBatch}, option.WithResponseInto(&hr))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || !strings.Contains(apiErr.Message, "files_settings/openai: circuit open") ||
		apiErr.Response.Header.Get("Retry-After") == "" || e.mocks["b"].Stats().Requests != calls {
		t.Fatalf("with its circuit open: %v (calls %d, were %d)", err, e.mocks["b"].Stats().Requests, calls)
	}
	if st := e.breaker("gpt-4o/openai/gpt-4o:chat"); st.State().String() != "closed" {
		t.Fatalf("the model's circuit is %s", st.State())
	}
}

// A file breakerd gave a client is used where it is stored: a Responses
// request's input_file and a chat request's file part go to that
// deployment (even when routing would pick another), under the upstream's
// own id; a request that names files at two deployments is a 400.
func TestRequestsThatNameAFileGoWhereItIs(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	openCircuitOfA(t, e)
	upload := func() *openai.FileObject {
		t.Helper()
		f, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("%PDF-1.4 the report"), "report.pdf", "application/pdf"),
			Purpose: openai.FilePurposeUserData})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	onB := upload()
	_, _, upstream, _ := provider.DecodeFileID(onB.ID)
	e.mocks["a"].Reset()
	e.clock.Advance(10 * 60e9)
	e.breaker("a:chat").Reset("test: a is well")

	var hr *http.Response
	_, err := e.client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o", Input: responses.ResponseNewParamsInputUnion{
		OfInputItemList: responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage(responses.ResponseInputMessageContentListParam{
			{OfInputFile: &responses.ResponseInputFileParam{FileID: openai.String(onB.ID)}},
			responses.ResponseInputContentParamOfInputText("summarise it"),
		}, responses.EasyInputMessageRoleUser)}}}, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Deployment") != "b" || !strings.Contains(e.mocks["b"].LastBody(), `"file_id":"`+upstream+`"`) {
		t.Fatalf("the Responses request went to %s; b got %s", hr.Header.Get("X-Breakerd-Deployment"), e.mocks["b"].LastBody())
	}
	_, err = e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{
		openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{openai.FileContentPart(openai.ChatCompletionContentPartFileFileParam{FileID: openai.String(onB.ID)}),
			openai.TextContentPart("summarise it")})}}, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Deployment") != "b" || !strings.Contains(e.mocks["b"].LastBody(), `"file_id":"`+upstream+`"`) {
		t.Fatalf("the chat request went to %s; b got %s", hr.Header.Get("X-Breakerd-Deployment"), e.mocks["b"].LastBody())
	}
	onA := upload() // a, first in order, is well again
	if _, d, _, _ := provider.DecodeFileID(onA.ID); d != "a" {
		t.Fatalf("the second upload went to %s", d)
	}
	_, err = e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{
		openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
			openai.FileContentPart(openai.ChatCompletionContentPartFileFileParam{FileID: openai.String(onA.ID)}),
			openai.FileContentPart(openai.ChatCompletionContentPartFileFileParam{FileID: openai.String(onB.ID)})})}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.RawJSON(), "kept at deployments a and b") {
		t.Fatalf("files at two deployments: %v", err)
	}
}

// A client that moves from a LiteLLM proxy keeps its files and batches:
// an id LiteLLM gave for an upload routed by model reaches the one
// deployment of that model that stores files, under the upstream's id;
// with two such deployments the 404 says breakerd cannot tell which.
func TestLiteLLMsFileIDsStillRoute(t *testing.T) {
	const cfg = `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: other
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
`
	e := newEnv(t, cfg, "a", "b")
	ctx := context.Background()
	direct := openai.NewClient(option.WithBaseURL(e.mockURLs["a"]+"/v1"), option.WithAPIKey("sk-a-secret"), option.WithMaxRetries(0))
	up, err := direct.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(batchLines), "r.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	litellmID := "file-" + base64.RawURLEncoding.EncodeToString([]byte("litellm:"+up.ID+";model,gpt-4o"))
	var hr *http.Response
	got, err := e.client.Files.Get(ctx, litellmID, option.WithResponseInto(&hr))
	if err != nil || hr.Header.Get("X-Breakerd-Deployment") != "gpt-4o/openai/gpt-4o" || got.Filename != "r.jsonl" {
		t.Fatalf("LiteLLM's id: %+v, %v", got, err)
	}
	batch, err := e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: litellmID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions, CompletionWindow: "24h"})
	if err != nil || !strings.Contains(e.mocks["a"].LastBody(), `"input_file_id":"`+up.ID+`"`) {
		t.Fatalf("a batch of LiteLLM's file: %+v, %v", batch, err)
	}

	e2 := newEnv(t, twoStores, "a", "b")
	var apiErr *openai.Error
	_, err = e2.client.Files.Get(ctx, "file-"+base64.RawURLEncoding.EncodeToString([]byte("litellm:file-x;model,gpt-4o")))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || !strings.Contains(apiErr.Message, "which has 2 deployments that store them here") {
		t.Fatalf("two deployments of the model: %v", err)
	}
}

// A batch's tokens are charged once it has ended, at the deployment's
// batch prices (half its list prices unless the config says), to its
// budgets: once, however often the batch is polled or listed.
func TestBatchesAreChargedOnceWhenDone(t *testing.T) {
	for _, tc := range []struct {
		name, prices string
		in, out      float64 // $ per 1M tokens, in a batch
	}{
		{"half the list prices", "", 0.075, 0.30},
		{"the config's batch prices", ", input_cost_per_token_batches: 0.000001, output_cost_per_token_batches: 0.000002", 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret, max_budget: 1000, budget_duration: 1d`+tc.prices+`}
`, "a")
			ctx := context.Background()
			lines := strings.ReplaceAll(batchLines, `"gpt-4o"`, `"gpt-4o-mini"`)
			file, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(lines), "r.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions, CompletionWindow: "24h"})
			if err != nil {
				t.Fatal(err)
			}
			budget := e.gw.Budgets()[0]
			if spent, _ := budget.Spent(e.clock.Now()); spent != 0 {
				t.Fatalf("charged %v before the batch ended", spent)
			}
			var done *openai.Batch
			for range 3 {
				if done, err = e.client.Batches.Get(ctx, batch.ID); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.client.Batches.List(ctx, openai.BatchListParams{}); err != nil {
				t.Fatal(err)
			}
			want := (float64(done.Usage.InputTokens)*tc.in + float64(done.Usage.OutputTokens)*tc.out) / 1e6
			if spent, _ := budget.Spent(e.clock.Now()); done.Usage.OutputTokens == 0 || math.Abs(spent-want) > 1e-15 {
				t.Fatalf("spent %v, want %v once (usage %+v)", spent, want, done.Usage)
			}
		})
	}
}

// In a fleet, a batch another replica charged is not charged here.
func TestBatchChargedElsewhereIsNotChargedHere(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret, max_budget: 1000, budget_duration: 1d}
`, "a")
	var asked []string
	e.gw.ShareBatchCharges(func(id string) bool { asked = append(asked, id); return false })
	ctx := context.Background()
	file, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(batchLines), "r.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: file.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions, CompletionWindow: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.client.Batches.Get(ctx, batch.ID); err != nil {
			t.Fatal(err)
		}
	}
	if spent, _ := e.gw.Budgets()[0].Spent(e.clock.Now()); spent != 0 || len(asked) != 1 || asked[0] != batch.ID {
		t.Fatalf("spent %v; the fleet was asked %v", spent, asked)
	}
}

// An embedding model's deployment keeps files and batches too (an
// embeddings batch's input is a file), through its embeddings circuit:
// a config of embedding models alone runs embedding batches.
func TestEmbeddingBatchesAtAnEmbeddingModel(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: embed
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
`, "a")
	ctx := context.Background()
	lines := `{"custom_id":"e1","method":"POST","url":"/v1/embeddings","body":{"model":"embed","input":"one"}}` + "\n"
	f, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(lines), "embed.jsonl", "application/jsonl"),
		Purpose: openai.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.Batches.New(ctx, openai.BatchNewParams{InputFileID: f.ID, Endpoint: openai.BatchNewParamsEndpointV1Embeddings,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.client.Batches.Get(ctx, b.ID)
	if err != nil || done.Status != "completed" || done.RequestCounts.Completed != 1 {
		t.Fatalf("the embeddings batch: %+v (%v)", done, err)
	}
	if names := e.gw.Registry().Names(); len(names) != 1 || names[0] != "embed/openai/text-embedding-3-small:embeddings" {
		t.Fatalf("breakers %v, want the embeddings one alone", names)
	}
}
