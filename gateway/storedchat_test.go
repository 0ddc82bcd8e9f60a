package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/breakerd/breakerd/provider"
)

// Stored chat completions through breakerd with the official SDK: a
// completion made with store: true (whole or streamed) gets an id that
// names its deployment, and its retrieval, metadata update, messages
// and deletion go there; the list merges every deployment's, filtered by
// model and metadata, oldest first as OpenAI's is; a completion not
// stored keeps the upstream's id.
func TestStoredChatCompletionsStayWithTheirDeployment(t *testing.T) {
	// The upstreams know the model by another name than clients do.
	e := newEnv(t, strings.ReplaceAll(twoStores, "openai/gpt-4o,", "openai/gpt-4o-2024-08-06,"), "a", "b")
	ctx := context.Background()
	ask := func(prompt string, tag string) *openai.ChatCompletion {
		t.Helper()
		c, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Store: openai.Bool(true),
			Metadata: shared.Metadata{"tag": tag},
			Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage(prompt)}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	at := func(id string) string {
		t.Helper()
		_, d, _, ok := provider.DecodeChatCompletionID(id)
		if !ok {
			t.Fatalf("id %q names no deployment", id)
		}
		return d
	}
	first := ask("first", "x")
	if d := at(first.ID); d != "a" {
		t.Fatalf("first stored at %s, want a", d)
	}
	openCircuitOfA(t, e) // what follows is made at b
	second := ask("second", "y")
	stream := e.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Store: openai.Bool(true),
		Metadata: shared.Metadata{"tag": "x"}, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("third")}})
	var third string
	for stream.Next() {
		id := stream.Current().ID
		if third == "" {
			third = id
		}
		if id != third {
			t.Fatalf("a stream's chunks carry ids %s and %s", third, id)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if at(second.ID) != "b" || at(third) != "b" {
		t.Fatalf("second at %s, third at %s: want b", at(second.ID), at(third))
	}
	plain, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("not kept")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := provider.DecodeChatCompletionID(plain.ID); ok {
		t.Fatalf("a completion not stored got breakerd's id %s", plain.ID)
	}
	e.clock.Advance(10 * 60e9)
	e.breaker("a:chat").Reset("test: a is well")
	e.mocks["a"].Reset()

	got, err := e.client.Chat.Completions.Get(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || got.Choices[0].Message.Content != first.Choices[0].Message.Content {
		t.Fatalf("retrieved %s %q, want %s %q", got.ID, got.Choices[0].Message.Content, first.ID, first.Choices[0].Message.Content)
	}
	if n := e.mocks["b"].Stats().Stored; n != 0 {
		t.Fatalf("b got %d calls for a's completion", n)
	}
	updated, err := e.client.Chat.Completions.Update(ctx, first.ID, openai.ChatCompletionUpdateParams{Metadata: shared.Metadata{"tag": "z"}})
	if err != nil || updated.ID != first.ID || updated.Metadata["tag"] != "z" {
		t.Fatalf("updated %+v (%v)", updated, err)
	}

	// Its messages, a page at a time: the cursor is breakerd's id.
	page, err := e.client.Chat.Completions.Messages.List(ctx, first.ID, openai.ChatCompletionMessageListParams{Limit: openai.Int(1)})
	if err != nil || len(page.Data) != 1 || page.Data[0].Content != "be brief" || !page.HasMore {
		t.Fatalf("first page %+v (%v)", page, err)
	}
	page, err = e.client.Chat.Completions.Messages.List(ctx, first.ID, openai.ChatCompletionMessageListParams{Limit: openai.Int(1), After: openai.String(page.Data[0].ID)})
	if err != nil || len(page.Data) != 1 || page.Data[0].Content != "first" {
		t.Fatalf("second page %+v (%v)", page, err)
	}

	list, err := e.client.Chat.Completions.List(ctx, openai.ChatCompletionListParams{Model: openai.String("gpt-4o")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list.Data {
		ids = append(ids, c.ID)
	}
	if len(ids) != 3 || ids[0] != first.ID || ids[1] != second.ID || ids[2] != third {
		t.Fatalf("list %v, want %s %s %s (oldest first)", ids, first.ID, second.ID, third)
	}
	tagged, err := e.client.Chat.Completions.List(ctx, openai.ChatCompletionListParams{Metadata: shared.Metadata{"tag": "x"}})
	if err != nil || len(tagged.Data) != 1 || tagged.Data[0].ID != third || tagged.Data[0].Model != "gpt-4o-2024-08-06" {
		t.Fatalf("tagged x: %+v (%v), want only %s", tagged.Data, err, third)
	}
	if _, err := e.client.Chat.Completions.List(ctx, openai.ChatCompletionListParams{Model: openai.String("no-such-model")}); err == nil {
		t.Fatal("a list of an unknown model was answered")
	}

	deleted, err := e.client.Chat.Completions.Delete(ctx, first.ID)
	if err != nil || !deleted.Deleted || deleted.ID != first.ID {
		t.Fatalf("deleted %+v (%v)", deleted, err)
	}
	if _, err := e.client.Chat.Completions.Get(ctx, first.ID); err == nil {
		t.Fatal("a deleted completion was found")
	}
	if _, err := e.client.Chat.Completions.Get(ctx, "chatcmpl-unknown"); err == nil {
		t.Fatal("an id breakerd did not give was found")
	}
}

// A list that spans deployments pages through every item once, in the
// merged order (by time, ties in config order), whichever deployment each
// page ends at, oldest first or newest first, a page never longer than
// its limit.
func TestMergedListsPageThroughEveryItemOnce(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: on-a
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
    model_info: {id: a}
  - model_name: on-b
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
    model_info: {id: b}
`, "a", "b")
	ctx := context.Background()
	var made []string
	// Runs at one deployment, then the other, some in the same second.
	for i, model := range []string{"on-a", "on-a", "on-a", "on-b", "on-b", "on-b", "on-a", "on-b", "on-a"} {
		e.clock.Advance(time.Duration(i%2) * time.Second)
		c, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model, Store: openai.Bool(true),
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(fmt.Sprint("q", i))}})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, c.ID)
	}
	whole, err := e.client.Chat.Completions.List(ctx, openai.ChatCompletionListParams{Limit: openai.Int(100)})
	if err != nil || len(whole.Data) != len(made) || whole.HasMore {
		t.Fatalf("one page of all: %d items, has_more %v (%v)", len(whole.Data), whole.HasMore, err)
	}
	for _, order := range []openai.ChatCompletionListParamsOrder{openai.ChatCompletionListParamsOrderAsc, openai.ChatCompletionListParamsOrderDesc} {
		for _, limit := range []int64{1, 2, 3} {
			want, err := e.client.Chat.Completions.List(ctx, openai.ChatCompletionListParams{Limit: openai.Int(100), Order: order})
			if err != nil {
				t.Fatal(err)
			}
			var paged []string
			pager := e.client.Chat.Completions.ListAutoPaging(ctx, openai.ChatCompletionListParams{Limit: openai.Int(limit), Order: order})
			for pager.Next() {
				paged = append(paged, pager.Current().ID)
				if len(paged) > 2*len(made) {
					break
				}
			}
			if err := pager.Err(); err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, c := range want.Data {
				all = append(all, c.ID)
			}
			if !slices.Equal(paged, all) {
				t.Fatalf("%s, %d a page: %d items %v\nwant the whole list's %d %v", order, limit, len(paged), paged, len(all), all)
			}
			first, err := e.client.Chat.Completions.List(ctx, openai.ChatCompletionListParams{Limit: openai.Int(limit), Order: order})
			if err != nil || int64(len(first.Data)) != limit || !first.HasMore {
				t.Fatalf("%s, limit %d: %d items, has_more %v (%v)", order, limit, len(first.Data), first.HasMore, err)
			}
		}
	}
	slices.Sort(made)
	var listed []string
	for _, c := range whole.Data {
		listed = append(listed, c.ID)
	}
	slices.Sort(listed)
	if !slices.Equal(made, listed) {
		t.Fatalf("listed %v, made %v", listed, made)
	}
}
