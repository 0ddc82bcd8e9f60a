package gateway_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/mockllm"
	"github.com/breakerd/breakerd/provider"
)

// A video (OpenAI's Videos API, Sora's) is made by model, at the model's
// route, and its id names the deployment that made it: retrieving it,
// its content, a remix, an edit, an extension and its deletion go there,
// through the official SDK; with that model's deployment down, its
// fallback makes it.
func TestVideosStayWithTheirDeployment(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: sora-2-pro
    litellm_params: {model: openai/sora-2-pro, api_base: "${MOCK_A}/v1", api_key: sk-a-secret-key}
  - model_name: sora-2
    litellm_params: {model: openai/sora-2, api_base: "${MOCK_B}/v1", api_key: sk-b-secret-key}
router_settings:
  fallbacks: [{sora-2-pro: [sora-2]}]
`, "a", "b")
	ctx := context.Background()
	v, err := e.client.Videos.New(ctx, openai.VideoNewParams{Model: "sora-2-pro", Prompt: "a cat on a skateboard", Seconds: openai.VideoSeconds4})
	if err != nil {
		t.Fatal(err)
	}
	_, at, upstream, ok := provider.DecodeVideoID(v.ID)
	if !ok || at != "sora-2-pro/openai/sora-2-pro" || !strings.HasPrefix(upstream, "video_mock") || v.Status != "queued" || v.Model != "sora-2-pro" {
		t.Fatalf("video %s: want an id naming the deployment that made it", v.RawJSON())
	}
	got, err := e.client.Videos.Get(ctx, v.ID)
	if err != nil || got.ID != v.ID || got.Status != "completed" {
		t.Fatalf("retrieved %v: %s", err, got.RawJSON())
	}
	var resp *http.Response
	content, err := e.client.Videos.DownloadContent(ctx, v.ID, openai.VideoDownloadContentParams{}, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(content.Body)
	content.Body.Close()
	if string(b) != "mock video "+upstream+": a cat on a skateboard" || content.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("content %q (%s)", b, content.Header.Get("Content-Type"))
	}
	remix, err := e.client.Videos.Remix(ctx, v.ID, openai.VideoRemixParams{Prompt: "a dog instead"})
	if err != nil {
		t.Fatalf("remix: %v", err)
	}
	if _, rat, _, ok := provider.DecodeVideoID(remix.ID); !ok || rat != at || remix.RemixedFromVideoID != v.ID {
		t.Fatalf("remix %s", remix.RawJSON())
	}
	// An edit and an extension of it are made where it is, by the
	// upstream's id.
	edit, err := e.client.Videos.Edit(ctx, openai.VideoEditParams{Prompt: "in the rain",
		Video: openai.VideoEditParamsVideoUnion{OfVideoEditsVideoVideoReferenceInputParam: &openai.VideoEditParamsVideoVideoReferenceInputParam{ID: v.ID}}})
	if err != nil {
		t.Fatalf("edit: %v", err)
	}
	if _, eat, _, ok := provider.DecodeVideoID(edit.ID); !ok || eat != at || edit.Prompt != "in the rain" {
		t.Fatalf("edit %s", edit.RawJSON())
	}
	ext, err := e.client.Videos.Extend(ctx, openai.VideoExtendParams{Prompt: "and then", Seconds: openai.VideoSeconds4,
		Video: openai.VideoExtendParamsVideoUnion{OfVideoExtendsVideoVideoReferenceInputParam: &openai.VideoExtendParamsVideoVideoReferenceInputParam{ID: v.ID}}})
	if err != nil {
		t.Fatalf("extension: %v", err)
	}
	if _, xat, _, ok := provider.DecodeVideoID(ext.ID); !ok || xat != at {
		t.Fatalf("extension %s", ext.RawJSON())
	}
	for _, made := range []string{edit.ID, ext.ID} {
		if _, err := e.client.Videos.Delete(ctx, made); err != nil {
			t.Fatal(err)
		}
	}
	page, err := e.client.Videos.List(ctx, openai.VideoListParams{})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, item := range page.Data {
		listed = append(listed, item.ID)
	}
	if len(listed) != 2 || !strings.Contains(strings.Join(listed, " "), v.ID) || !strings.Contains(strings.Join(listed, " "), remix.ID) {
		t.Fatalf("listed %v, want the video and its remix", listed)
	}
	if del, err := e.client.Videos.Delete(ctx, v.ID); err != nil || !del.Deleted || del.ID != v.ID {
		t.Fatalf("delete %v: %+v", err, del)
	}
	if _, err := e.client.Videos.Get(ctx, v.ID); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("after its deletion: %v", err)
	}

	// sora-2-pro's deployment down: its fallback makes the video.
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	v, err = e.client.Videos.New(ctx, openai.VideoNewParams{Model: "sora-2-pro", Prompt: "a cat"})
	if err != nil {
		t.Fatalf("with sora-2-pro down: %v", err)
	}
	if _, at, _, ok := provider.DecodeVideoID(v.ID); !ok || at != "sora-2/openai/sora-2" || v.Model != "sora-2" {
		t.Fatalf("with sora-2-pro down: %s", v.RawJSON())
	}
	if got, err := e.client.Videos.Get(ctx, v.ID); err != nil || got.ID != v.ID {
		t.Fatalf("the fallback's video: %v", err)
	}
	// A video model's deployment has a videos circuit alone, which its
	// calls count toward.
	if c := e.breaker("sora-2-pro/openai/sora-2-pro:videos").Counts(); c.Failures != 1 {
		t.Fatalf("sora-2-pro's videos circuit counts %+v, want the failed call", c)
	}
	_, err = e.client.Videos.New(ctx, openai.VideoNewParams{Model: "veo-9", Prompt: "x"})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "no deployment of `veo-9` serves the Videos API") {
		t.Fatalf("a model no deployment serves: %v", err)
	}
}

// A video made where its upstream no longer serves the model (OpenAI's
// Sora 2, shut down) is made by the next deployment of the model's
// route, and the first's videos circuit opens.
func TestAVideoModelItsUpstreamNoLongerServes(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: sora-2
    litellm_params: {model: openai/sora-2, api_base: "${MOCK_A}/v1", api_key: sk-a-secret-key, order: 1}
  - model_name: sora-2
    litellm_params: {model: openai/sora-2, api_base: "${MOCK_B}/v1", api_key: sk-b-secret-key, order: 2}
`, "a", "b")
	e.mocks["a"].SetFaults(mockllm.Faults{MissingModels: []string{"sora-2"}})
	v, err := e.client.Videos.New(context.Background(), openai.VideoNewParams{Model: "sora-2", Prompt: "a cat", Seconds: openai.VideoSeconds4})
	if err != nil {
		t.Fatal(err)
	}
	ds := e.gw.Route("sora-2")
	if _, at, _, ok := provider.DecodeVideoID(v.ID); !ok || len(ds) != 2 || at != ds[1].Config.Name {
		t.Fatalf("video %s, want it made at the second deployment", v.RawJSON())
	}
	if st := ds[0].Breakers[provider.Videos].Snapshot(); st.State != breaker.Open || !strings.Contains(st.Reason, "does not serve its model") {
		t.Fatalf("the first deployment's videos circuit is %v (%q), want open", st.State, st.Reason)
	}
}
