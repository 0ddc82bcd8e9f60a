package gateway_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// imageHost serves an image and a PDF by URL, as a CDN would.
func imageHost(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cat.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write([]byte("\x89PNG\r\n\x1a\ncat"))
		case "/report.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			_, _ = w.Write([]byte("%PDF-1.7 report"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Images and PDFs reach Bedrock, which takes them only as data: an image
// by URL in a chat request, and a document by URL in a Messages one, are
// fetched and sent as data, to Claude at InvokeModel and to other models
// at Converse (documents named as Converse wants); a PDF in a chat
// request's file part becomes a document.
func TestImagesAndDocumentsByURLOnBedrock(t *testing.T) {
	host := imageHost(t)
	e := newEnv(t, `
server: {fetch_private_urls: true}   # the test's image host is on loopback
model_list:
  - model_name: claude
    litellm_params: {model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0, api_key: bedrock-api-key-1, api_base: "${MOCK_BR}"}
  - model_name: llama
    litellm_params: {model: bedrock/meta.llama3-2-90b-instruct-v1:0, api_key: bedrock-api-key-1, api_base: "${MOCK_BR}"}
`, "br")
	br := e.mocks["br"]
	pdf := "data:application/pdf;base64," + base64.StdEncoding.EncodeToString([]byte("%PDF-1.7 inline"))
	ctx := context.Background()
	for _, model := range []string{"claude", "llama"} {
		got, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{
			openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
				openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: host.URL + "/cat.png"}),
				openai.FileContentPart(openai.ChatCompletionContentPartFileFileParam{FileData: openai.String(pdf), Filename: openai.String("q3.pdf")}),
				openai.TextContentPart("what are these?"),
			})}})
		if err != nil || !strings.Contains(got.Choices[0].Message.Content, "You said: what are these?") {
			t.Fatalf("%s: %+v %v", model, got, err)
		}
		body := br.LastBody()
		wantImage := `"source":{"data":"` + base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\ncat")) + `","media_type":"image/png","type":"base64"}`
		if model == "llama" {
			wantImage = `"image":{"format":"png","source":{"bytes":"` + base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\ncat")) + `"}}`
		}
		if !strings.Contains(body, wantImage) || strings.Contains(body, host.URL) {
			t.Fatalf("%s: bedrock got %s\nwant the image as data (%s)", model, body, wantImage)
		}
	}
	if body := br.LastBody(); !strings.Contains(body, `"document":{"format":"pdf","name":"q3 pdf","source":{"bytes":"`+base64.StdEncoding.EncodeToString([]byte("%PDF-1.7 inline"))+`"}}`) {
		t.Fatalf("converse got %s, want the file as a document", body)
	}
	client := e.anthropicClient()
	msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "llama", MaxTokens: 64, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(
		anthropic.NewDocumentBlock(anthropic.URLPDFSourceParam{URL: host.URL + "/report.pdf"}), anthropic.NewTextBlock("summarize"))}})
	if err != nil || !strings.Contains(msg.Content[0].Text, "You said: summarize") {
		t.Fatalf("Messages: %+v %v", msg, err)
	}
	if body := br.LastBody(); !strings.Contains(body, `"document":{"format":"pdf","name":"document 1","source":{"bytes":"`+base64.StdEncoding.EncodeToString([]byte("%PDF-1.7 report"))+`"}}`) {
		t.Fatalf("converse got %s, want the PDF fetched", body)
	}
}

// By default breakerd fetches nothing from a private address: a request
// naming one is refused (400, the request's error, not the deployment's),
// and Bedrock is not called.
func TestImagesByPrivateURLAreRefused(t *testing.T) {
	host := imageHost(t)
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0, api_key: bedrock-api-key-1, api_base: "${MOCK_BR}"}
`, "br")
	status, _, body := e.post("/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"`+host.URL+`/cat.png"}}]}]}`)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != http.StatusBadRequest || !strings.Contains(msg, "could not fetch the image at "+host.URL+"/cat.png: breakerd fetches images and documents only from public addresses") {
		t.Fatalf("%d %v", status, body)
	}
	if n := e.mocks["br"].Stats().Requests; n != 0 || e.breaker("claude/bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0:chat").Counts().Failures != 0 {
		t.Fatalf("bedrock called %d times, or the breaker counted the client's error", n)
	}
}

// A PDF crosses between the APIs as each takes one: an Anthropic client's
// document reaches an OpenAI deployment as chat's file part (a text
// document as text), and a Responses client's input_file reaches Claude
// as Anthropic's document, through the official SDKs.
func TestDocumentsAcrossAPIs(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	ctx := context.Background()
	data := base64.StdEncoding.EncodeToString([]byte("%PDF-1.7 annual report"))
	client := e.anthropicClient()
	msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-4o-mini", MaxTokens: 64, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(
		anthropic.NewDocumentBlock(anthropic.Base64PDFSourceParam{Data: data}),
		anthropic.NewDocumentBlock(anthropic.PlainTextSourceParam{Data: "the appendix"}),
		anthropic.NewTextBlock("summarize"))}})
	if err != nil || !strings.Contains(msg.Content[0].Text, "Hello from openai") {
		t.Fatalf("Messages: %+v %v", msg, err)
	}
	if body := e.mocks["openai"].LastBody(); !strings.Contains(body, `{"file":{"file_data":"data:application/pdf;base64,`+data+`","filename":"document.pdf"},"type":"file"}`) ||
		!strings.Contains(body, `{"text":"the appendix","type":"text"}`) {
		t.Fatalf("openai got %s", body)
	}
	r, err := e.client.Responses.New(ctx, responses.ResponseNewParams{Model: "claude", Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage(responses.ResponseInputMessageContentListParam{
			{OfInputFile: &responses.ResponseInputFileParam{FileData: openai.String("data:application/pdf;base64," + data), Filename: openai.String("report.pdf")}},
			responses.ResponseInputContentParamOfInputText("summarize"),
		}, responses.EasyInputMessageRoleUser)}}})
	if err != nil || !strings.Contains(r.OutputText(), "Hello from anthropic") {
		t.Fatalf("Responses: %+v %v", r, err)
	}
	if body := e.mocks["anthropic"].LastBody(); !strings.Contains(body, `{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"`+data+`"},"title":"report.pdf"}`) {
		t.Fatalf("anthropic got %s", body)
	}
}
