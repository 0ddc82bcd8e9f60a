package mockllm

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// The mock's audio, image and moderation APIs answer in the media type
// the request asks for, as OpenAI's do, and refuse what OpenAI refuses.
func TestAudioAndImages(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	form := func(format string) (string, io.Reader) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("model", "whisper-1")
		if format != "" {
			_ = w.WriteField("response_format", format)
		}
		fw, _ := w.CreateFormFile("file", "a.wav")
		_, _ = fw.Write([]byte("12345"))
		_ = w.Close()
		return w.FormDataContentType(), &b
	}
	imageForm := func(field string, images int, prompt string) (string, io.Reader) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		if prompt != "" {
			_ = w.WriteField("prompt", prompt)
		}
		for range images {
			fw, _ := w.CreateFormFile(field, "a.png")
			_, _ = fw.Write([]byte("PNG"))
		}
		_ = w.Close()
		return w.FormDataContentType(), &b
	}
	twoImages, twoImagesBody := imageForm("image[]", 2, "a hat")
	oneImage, oneImageBody := imageForm("image", 1, "")
	noPrompt, noPromptBody := imageForm("image", 1, "")
	tests := []struct {
		name, path, ctype string
		body              io.Reader
		status            int
		wantType, want    string
	}{
		{name: "a transcription, JSON", path: "/v1/audio/transcriptions", status: 200, wantType: "application/json", want: `"text":"Hello from m! I heard 5 bytes of a.wav."`},
		{name: "a transcription, text", path: "/v1/audio/transcriptions?format=text", status: 200, wantType: "text/plain; charset=utf-8", want: "Hello from m! I heard 5 bytes"},
		{name: "a transcription, subtitles", path: "/v1/audio/transcriptions?format=vtt", status: 200, wantType: "text/vtt", want: "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n"},
		{name: "a transcription in an unknown format", path: "/v1/audio/transcriptions?format=mp4", status: 400, wantType: "application/json", want: "response_format"},
		{name: "a transcription without a form", path: "/v1/audio/transcriptions", ctype: "application/json", body: strings.NewReader(`{}`), status: 400, want: "multipart"},
		{name: "speech, mp3 by default", path: "/v1/audio/speech", ctype: "application/json", body: strings.NewReader(`{"model":"tts-1","input":"hi","voice":"alloy"}`),
			status: 200, wantType: "audio/mpeg", want: "MOCKAUDIO from m: hi"},
		{name: "speech as wav", path: "/v1/audio/speech", ctype: "application/json", body: strings.NewReader(`{"model":"tts-1","input":"hi","voice":"alloy","response_format":"wav"}`),
			status: 200, wantType: "audio/wav", want: "MOCKAUDIO"},
		{name: "speech without input", path: "/v1/audio/speech", ctype: "application/json", body: strings.NewReader(`{"model":"tts-1"}`), status: 400, want: "'input'"},
		{name: "two images as base64", path: "/v1/images/generations", ctype: "application/json", body: strings.NewReader(`{"model":"dall-e-3","prompt":"a door","n":2,"response_format":"b64_json"}`),
			status: 200, wantType: "application/json", want: `"b64_json":"TU9DS0lNQUdF"`},
		{name: "Azure's deployment path", path: "/openai/deployments/d/images/generations?api-version=2024-10-21", ctype: "application/json",
			body: strings.NewReader(`{"prompt":"a door"}`), status: 200, want: "https://images.mock/m/0.png"},
		{name: "an image streamed, with partial images", path: "/v1/images/generations", ctype: "application/json",
			body: strings.NewReader(`{"model":"gpt-image-1","prompt":"a door","stream":true,"partial_images":1}`), status: 200, wantType: "text/event-stream",
			want: "data: {\"b64_json\":\"TU9DS1BBUlRJQUw=\",\"created_at\":"},
		{name: "speech as events", path: "/v1/audio/speech", ctype: "application/json",
			body: strings.NewReader(`{"model":"gpt-4o-mini-tts","input":"hi","voice":"alloy","stream_format":"sse"}`), status: 200, wantType: "text/event-stream",
			want: `"type":"speech.audio.done"`},
		{name: "an edit of two images, as the SDKs send them", path: "/v1/images/edits", ctype: twoImages, body: twoImagesBody,
			status: 200, wantType: "application/json", want: `"revised_prompt":"a hat (of 2 images)"`},
		{name: "an edit of images by URL", path: "/v1/images/edits", ctype: "application/json",
			body: strings.NewReader(`{"model":"gpt-image-1","prompt":"a hat","images":[{"image_url":"https://x/a.png"}]}`), status: 200, want: `"a hat (of 1 images)"`},
		{name: "an edit without a prompt", path: "/v1/images/edits", ctype: noPrompt, body: noPromptBody, status: 400, want: "'prompt'"},
		{name: "a variation", path: "/v1/images/variations", ctype: oneImage, body: oneImageBody, status: 200, want: `"a variation (of 1 images)"`},
		{name: "a moderation", path: "/v1/moderations", ctype: "application/json", body: strings.NewReader(`{"input":"hello"}`),
			status: 200, wantType: "application/json", want: `"model":"omni-moderation-latest","results":[{"categories":{`},
		{name: "inputs flagged by the category they name", path: "/v1/moderations", ctype: "application/json",
			body: strings.NewReader(`{"model":"text-moderation-stable","input":["fine",{"type":"text","text":"Violence!"}]}`), status: 200, want: `"flagged":true`},
		{name: "a moderation without input", path: "/v1/moderations", ctype: "application/json", body: strings.NewReader(`{}`), status: 400, want: "'input'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype, body := tt.ctype, tt.body
			path, format, _ := strings.Cut(tt.path, "?format=")
			if body == nil {
				ctype, body = form(format)
			}
			resp, err := http.Post(url+path, ctype, body)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || (tt.wantType != "" && resp.Header.Get("Content-Type") != tt.wantType) || !strings.Contains(string(data), tt.want) {
				t.Fatalf("%d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), data)
			}
		})
	}
	if s := m.Stats(); s.Media != int64(len(tests)-3) || s.Moderations != 3 || s.Chat != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// The mock's rerank API orders the documents by the query's words each
// holds, as Cohere's answers, on each path rerank clients call.
func TestRerank(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	for _, path := range []string{"/v1/rerank", "/v2/rerank"} {
		resp, err := http.Post(url+path, "application/json", strings.NewReader(`{"model":"rerank-v3.5","query":"blue door",`+
			`"documents":["a red car",{"text":"the blue door"},"a door"],"top_n":2,"return_documents":true}`))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Model   string
			Results []struct {
				Index          int
				RelevanceScore float64 `json:"relevance_score"`
				Document       struct{ Text string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || got.Model != "rerank-v3.5" || len(got.Results) != 2 || got.Results[0].Index != 1 || got.Results[0].RelevanceScore != 1 ||
			got.Results[1].Index != 2 || got.Results[0].Document.Text != "the blue door" {
			t.Fatalf("%s: %+v %v", path, got, err)
		}
	}
	resp, err := http.Post(url+"/v1/rerank", "application/json", strings.NewReader(`{"model":"x","query":"q"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || m.Stats().Rerank != 3 {
		t.Fatalf("without documents: %d; stats %+v", resp.StatusCode, m.Stats())
	}
}
