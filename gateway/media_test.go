package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/mockllm"
)

// media is a LiteLLM config's audio, image and moderation models, each on
// two deployments: one known by model_info.mode, one by its model's name.
const media = `
model_list:
  - model_name: whisper
    litellm_params: {model: openai/whisper-1, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
    model_info: {mode: audio_transcription}
  - model_name: whisper
    litellm_params: {model: openai/whisper-1, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
  - model_name: tts
    litellm_params: {model: openai/tts-1, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: tts
    litellm_params: {model: openai/gpt-4o-mini-tts, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
  - model_name: images
    litellm_params: {model: openai/dall-e-3, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: images
    litellm_params: {model: openai/gpt-image-1, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
  - model_name: moderation
    litellm_params: {model: openai/omni-moderation-latest, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: moderation
    litellm_params: {model: openai/my-classifier, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
    model_info: {mode: moderation}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`

// Audio transcriptions, translations and speech, image generations,
// edits and variations, and moderations go through the official SDK to
// their deployments, fall back when one fails, count against their own
// breakers, and keep the upstream's media type. The SDK's calls that may
// leave the model out (an edit, a variation, a moderation) reach the one
// model that serves their API.
func TestAudioAndImagesFallBack(t *testing.T) {
	e := newEnv(t, media, "a", "b")
	ctx := context.Background()
	wav := []byte("RIFF....WAVEfmt fake audio")
	transcribe := func() (string, http.Header, error) {
		var hr *http.Response
		tr, err := e.client.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{Model: "whisper",
			File: openai.File(bytes.NewReader(wav), "hello.wav", "audio/wav")}, option.WithResponseInto(&hr))
		if err != nil {
			return "", nil, err
		}
		return tr.Text, hr.Header, nil
	}
	for _, tc := range []struct {
		name  string
		serve func() (string, http.Header, error)
		want  string
	}{
		{"transcription", transcribe, "I heard 26 bytes of hello.wav"},
		{"translation", func() (string, http.Header, error) {
			var hr *http.Response
			tr, err := e.client.Audio.Translations.New(ctx, openai.AudioTranslationNewParams{Model: "whisper",
				File: openai.File(bytes.NewReader(wav), "hola.wav", "audio/wav")}, option.WithResponseInto(&hr))
			if err != nil {
				return "", nil, err
			}
			return tr.Text, hr.Header, nil
		}, "I heard 26 bytes of hola.wav"},
		{"speech", func() (string, http.Header, error) {
			resp, err := e.client.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{Model: "tts", Input: "good morning",
				Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}})
			if err != nil {
				return "", nil, err
			}
			defer resp.Body.Close()
			audio, err := io.ReadAll(resp.Body)
			if ct := resp.Header.Get("Content-Type"); ct != "audio/mpeg" {
				t.Errorf("speech's media type %q", ct)
			}
			return string(audio), resp.Header, err
		}, ": good morning"},
		{"image", func() (string, http.Header, error) {
			var hr *http.Response
			img, err := e.client.Images.Generate(ctx, openai.ImageGenerateParams{Model: "images", Prompt: "a door"}, option.WithResponseInto(&hr))
			if err != nil {
				return "", nil, err
			}
			return img.Data[0].URL, hr.Header, nil
		}, "https://images.mock/"},
		{"image edit", func() (string, http.Header, error) {
			var hr *http.Response
			img, err := e.client.Images.Edit(ctx, openai.ImageEditParams{Prompt: "a hat", Image: openai.ImageEditParamsImageUnion{
				OfFileArray: []io.Reader{openai.File(strings.NewReader("PNG1"), "a.png", "image/png"), openai.File(strings.NewReader("PNG2"), "b.png", "image/png")}}},
				option.WithResponseInto(&hr))
			if err != nil {
				return "", nil, err
			}
			return img.Data[0].RevisedPrompt, hr.Header, nil
		}, "a hat (of 2 images)"},
		{"image variation", func() (string, http.Header, error) {
			var hr *http.Response
			img, err := e.client.Images.NewVariation(ctx, openai.ImageNewVariationParams{Image: openai.File(strings.NewReader("PNG"), "a.png", "image/png")},
				option.WithResponseInto(&hr))
			if err != nil {
				return "", nil, err
			}
			return img.Data[0].RevisedPrompt, hr.Header, nil
		}, "a variation (of 1 images)"},
		{"moderation", func() (string, http.Header, error) {
			var hr *http.Response
			mod, err := e.client.Moderations.New(ctx, openai.ModerationNewParams{Input: openai.ModerationNewParamsInputUnion{
				OfStringArray: []string{"hello", "violence"}}}, option.WithResponseInto(&hr))
			if err != nil {
				return "", nil, err
			}
			if len(mod.Results) != 2 || mod.Results[0].Flagged || !mod.Results[1].Categories.Violence {
				t.Errorf("results %+v", mod.Results)
			}
			return mod.Model, hr.Header, nil
		}, "-"}, // the deployment's model, which the mock echoes: omni-moderation-latest or my-classifier
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.mocks["a"].Reset()
			got, h, err := tc.serve()
			if s := e.mocks["a"].Stats(); err != nil || !strings.Contains(got, tc.want) || h.Get("X-Breakerd-Provider") != "openai" || s.Media+s.Moderations != 1 {
				t.Fatalf("from a: %q %v %v", got, err, e.mocks["a"].Stats())
			}
			e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
			got, h, err = tc.serve()
			if err != nil || !strings.Contains(got, tc.want) || h.Get("X-Breakerd-Fallback") != "true" {
				t.Fatalf("after a failed: %q %v %v", got, err, h)
			}
			if s := e.mocks["b"].Stats(); !strings.Contains(h.Get("X-Breakerd-Deployment"), "/") || s.Media+s.Moderations == 0 {
				t.Fatalf("served by %s; b's stats %+v", h.Get("X-Breakerd-Deployment"), e.mocks["b"].Stats())
			}
			if tc.name == "moderation" && got != "my-classifier" {
				t.Fatalf("b was asked for model %q, not its deployment's", got) // the client named none: breakerd adds it
			}
		})
	}
	for name, want := range map[string]uint64{"whisper/openai/whisper-1:transcriptions": 2, // transcription and translation
		"tts/openai/tts-1:speech": 1, "images/openai/dall-e-3:images": 3, // generation, edit and variation
		"moderation/openai/omni-moderation-latest:moderations": 1} {
		if f := e.breaker(name).Counts().Failures; f != want {
			t.Errorf("%s counted %d failures, want %d", name, f, want)
		}
	}
	if n := e.breaker("gpt-4o/openai/gpt-4o:chat").Counts().Failures; n != 0 {
		t.Errorf("chat's breaker counted %d failures of audio and images", n)
	}
}

// A request that leaves out a model OpenAI would choose is the client's
// 400 when several models could serve it, naming them; a request with
// what the API needs missing is a 400 before any upstream is called.
func TestOptionalModelsAndMissingParts(t *testing.T) {
	e := newEnv(t, strings.Replace(media, "router_settings:", `  - model_name: moderation-2
    litellm_params: {model: openai/text-moderation-stable, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings:`, 1), "a", "b")
	form := func(field string) (string, io.Reader) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		fw, _ := w.CreateFormFile(field, "a.png")
		_, _ = fw.Write([]byte("PNG"))
		_ = w.Close()
		return w.FormDataContentType(), &b
	}
	for _, tc := range []struct {
		name, path, body, field, want string
	}{
		{name: "a moderation without a model, of two models", path: "/v1/moderations", body: `{"input":"hi"}`,
			want: "you must provide a model parameter: 2 models serve /v1/moderations (`moderation`, `moderation-2`)"},
		{name: "a moderation without input", path: "/v1/moderations", body: `{"model":"moderation"}`, want: "you must provide an input parameter"},
		{name: "an edit without a prompt", path: "/v1/images/edits", field: "image", want: "you must provide a prompt parameter"},
		{name: "an edit without an image", path: "/v1/images/edits", field: "file", want: "you must provide a image parameter"},
		{name: "an edit by URL without a prompt", path: "/v1/images/edits", body: `{"model":"images","images":[{"image_url":"https://x/a.png"}]}`,
			want: "you must provide a prompt parameter"},
		{name: "a variation without an image", path: "/v1/images/variations", field: "mask", want: "you must provide a image parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctype, body := "application/json", io.Reader(strings.NewReader(tc.body))
			if tc.field != "" {
				ctype, body = form(tc.field)
			}
			resp, err := e.http.Post(e.url+tc.path, ctype, body)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(data), tc.want) {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
		})
	}
	if s := e.mocks["a"].Stats(); s.Requests != 0 {
		t.Fatalf("an upstream was called: %+v", s)
	}
	// Named, the model serves; an edit may name its images by URL, in JSON.
	if mod, err := e.client.Moderations.New(context.Background(), openai.ModerationNewParams{Model: "moderation-2",
		Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("hi")}}); err != nil || mod.Model != "text-moderation-stable" {
		t.Fatalf("%+v %v", mod, err)
	}
	status, _, body := e.post("/v1/images/edits", `{"model":"images","prompt":"a hat","images":[{"image_url":"https://x/a.png"}]}`)
	if data, _ := body["data"].([]any); status != 200 || len(data) != 1 || data[0].(map[string]any)["revised_prompt"] != "a hat (of 1 images)" {
		t.Fatalf("an edit by URL: %d %v", status, body)
	}
}

// A transcription's text formats keep their media type; a request
// without its file, or for a chat model, is the client's 400.
func TestTranscriptionFormatsAndErrors(t *testing.T) {
	e := newEnv(t, media, "a", "b")
	ctx := context.Background()
	resp, srt := postWhisperForm(t, e, "response_format", "srt")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-subrip" || !strings.HasPrefix(string(srt), "1\n00:00:00,000 --> ") {
		t.Fatalf("srt: %d %v %q", resp.StatusCode, resp.Header, srt)
	}
	_, err := e.client.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{Model: "gpt-4o",
		File: openai.File(strings.NewReader("audio"), "a.wav", "audio/wav")})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "does not serve audio/transcriptions: none of its deployments") {
		t.Fatalf("a chat model: %v", err)
	}
	status, _, body := e.post("/v1/audio/transcriptions", `{"model":"whisper"}`)
	if msg, _ := body["error"].(map[string]any)["message"].(string); status != 400 || !strings.Contains(msg, "multipart/form-data") {
		t.Fatalf("JSON: %d %v", status, body)
	}
	if _, _, err := e.chat("whisper"); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "its deployments are models for transcriptions only") {
		t.Fatalf("chat on whisper: %v", err)
	}
}

// An audio upload may be as large as OpenAI takes (25 MB) whatever
// server.max_body_bytes, which bounds the JSON requests.
func TestAudioUploadsHaveOpenAIsLimit(t *testing.T) {
	e := newEnv(t, media+"server:\n  max_body_bytes: 300\n", "a", "b")
	_, err := e.client.Audio.Transcriptions.New(context.Background(), openai.AudioTranscriptionNewParams{Model: "whisper",
		File: openai.File(bytes.NewReader(make([]byte, 4000)), "long.wav", "audio/wav")})
	if err != nil {
		t.Fatalf("a 4 KB upload over max_body_bytes: %v", err)
	}
	status, _, _ := e.post("/v1/images/generations", `{"model":"images","prompt":"`+strings.Repeat("x", 400)+`"}`)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a JSON request over max_body_bytes: %d", status)
	}
}

// Streamed transcriptions, images and speech (gpt-4o-transcribe's,
// gpt-image's partial images, speech as events) come through the
// official SDK's streaming calls event by event, and fall back before
// their first event as any stream does. A model that answers whole
// (whisper-1 ignores stream) is relayed whole.
func TestMediaStreams(t *testing.T) {
	e := newEnv(t, strings.Replace(media, "router_settings:", `  - model_name: transcribe
    litellm_params: {model: openai/gpt-4o-transcribe, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: transcribe
    litellm_params: {model: openai/gpt-4o-transcribe, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings:`, 1), "a", "b")
	ctx := context.Background()
	transcribe := func() (string, []string, http.Header) {
		var hr *http.Response
		st := e.client.Audio.Transcriptions.NewStreaming(ctx, openai.AudioTranscriptionNewParams{Model: "transcribe",
			File: openai.File(strings.NewReader("RIFF audio"), "hi.wav", "audio/wav")}, option.WithResponseInto(&hr))
		defer st.Close()
		var text strings.Builder
		var types []string
		for st.Next() {
			ev := st.Current()
			types = append(types, ev.Type)
			text.WriteString(ev.Delta)
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		return text.String(), types, hr.Header
	}
	text, types, h := transcribe()
	if len(types) < 3 || types[len(types)-1] != "transcript.text.done" || text != "Hello from a! I heard 10 bytes of hi.wav." ||
		h.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("transcription: %q %v %v", text, types, h)
	}
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	if text, _, h = transcribe(); !strings.HasPrefix(text, "Hello from b!") || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("transcription after a failed: %q %v", text, h)
	}
	e.mocks["a"].Reset()

	img := e.client.Images.GenerateStreaming(ctx, openai.ImageGenerateParams{Model: "images", Prompt: "a door", PartialImages: openai.Int(2)})
	var imgTypes []string
	var usage int64
	for img.Next() {
		imgTypes = append(imgTypes, img.Current().Type)
		usage = img.Current().Usage.OutputTokens
	}
	if img.Err() != nil || strings.Join(imgTypes, ",") != "image_generation.partial_image,image_generation.partial_image,image_generation.completed" || usage != 1056 {
		t.Fatalf("image: %v %d %v", imgTypes, usage, img.Err())
	}
	img.Close()

	resp, err := e.client.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{Model: "tts", Input: "good morning",
		Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}, StreamFormat: openai.AudioSpeechNewParamsStreamFormatSSE})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || strings.Count(string(events), `"type":"speech.audio.delta"`) != 5 ||
		!strings.HasSuffix(string(events), "\n\n") || !strings.Contains(string(events), `"type":"speech.audio.done"`) {
		t.Fatalf("speech: %v %s", resp.Header, events)
	}

	// The events come as the upstream sends them: the first two arrive
	// while it holds back the rest.
	e.mocks["a"].SetFaults(mockllm.Faults{StallAfter: 2})
	gctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a guard, not a timing
	st := e.client.Audio.Transcriptions.NewStreaming(gctx, openai.AudioTranscriptionNewParams{Model: "transcribe",
		File: openai.File(strings.NewReader("RIFF audio"), "hi.wav", "audio/wav")})
	var got []string
	for len(got) < 2 && st.Next() {
		got = append(got, st.Current().Delta)
	}
	cancel()
	st.Close()
	if strings.Join(got, "") != "Hello from " {
		t.Fatalf("before the upstream stalled: %q (%v)", got, st.Err())
	}
	e.mocks["a"].Reset()

	// whisper-1 answers a stream request whole, as OpenAI's does.
	whole, data := postWhisperForm(t, e, "stream", "true")
	if whole.StatusCode != 200 || whole.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(data), `"text":"Hello from a!`) {
		t.Fatalf("whisper, stream asked: %d %v %s", whole.StatusCode, whole.Header, data)
	}
}

// postWhisperForm posts a transcription form for the whisper model, with
// one more field, as a client that is not an SDK would, and returns the
// answer and its body.
func postWhisperForm(t *testing.T, e *env, field, value string) (*http.Response, []byte) {
	t.Helper()
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("model", "whisper")
	_ = mw.WriteField(field, value)
	fw, _ := mw.CreateFormFile("file", "a.wav")
	_, _ = fw.Write([]byte("audio"))
	_ = mw.Close()
	resp, err := e.http.Post(e.url+"/v1/audio/transcriptions", mw.FormDataContentType(), &form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// Rerank requests (Cohere's API, as RAG clients send it to LiteLLM's
// /rerank, /v1/rerank and /v2/rerank) go to the rerank deployments of a
// model group, by model_info.mode or a model's name, and fall back when
// one fails; one without its query or documents is the client's 400.
func TestRerankFallsBack(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: reranker
    litellm_params: {model: hosted_vllm/BAAI/bge-m3, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
    model_info: {mode: rerank}
  - model_name: reranker
    litellm_params: {model: jina_ai/jina-reranker-v2-base-multilingual, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`, "a", "b")
	const body = `{"model":"reranker","query":"blue door","documents":["a red car","the blue door"],"top_n":1}`
	for i, path := range []string{"/v1/rerank", "/rerank", "/v2/rerank"} {
		if i == 1 {
			e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		}
		status, h, got := e.post(path, body)
		results, _ := got["results"].([]any)
		want := map[bool]string{false: "BAAI/bge-m3", true: "jina-reranker-v2-base-multilingual"}[i > 0]
		if status != 200 || len(results) != 1 || results[0].(map[string]any)["index"] != 1.0 || got["model"] != want {
			t.Fatalf("%s: %d %v %v", path, status, h, got)
		}
	}
	if f := e.breaker("reranker/hosted_vllm/BAAI/bge-m3:rerank").Counts().Failures; f != 2 {
		t.Fatalf("a's rerank breaker counted %d failures, want 2", f)
	}
	if status, _, got := e.post("/v1/rerank", `{"model":"reranker","query":"q"}`); status != 400 ||
		!strings.Contains(got["error"].(map[string]any)["message"].(string), "query and documents") {
		t.Fatalf("without documents: %d %v", status, got)
	}
}
