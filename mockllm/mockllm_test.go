package mockllm

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	anthropicsdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
)

func post(t *testing.T, url, body string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func newMock(t *testing.T, opts Options) (*Server, string) {
	m := New(opts)
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() { srv.Close(); http.DefaultClient.CloseIdleConnections() })
	return m, srv.URL
}

const chatBody = `{"model":"gpt-x","messages":[{"role":"user","content":"hi there"}]}`

// An unknown URL gets the real API's error shape, so a misconfigured
// api_base shows up at the gateway as a readable 404.
func TestUnknownURLIsAnAPIError(t *testing.T) {
	_, url := newMock(t, Options{})
	resp, body := post(t, url+"/v2/chat/completions", chatBody, nil)
	var e struct {
		Error struct{ Message, Type string }
	}
	if resp.StatusCode != 404 || json.Unmarshal(body, &e) != nil || e.Error.Message != "Invalid URL (POST /v2/chat/completions)" {
		t.Fatalf("status %d, body %s: want a 404 with OpenAI's error body", resp.StatusCode, body)
	}
}

func TestFaultControlAPI(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	req, _ := http.NewRequest(http.MethodPut, url+"/_mock/faults", strings.NewReader(`{"error_rate":0.5,"status":503,"retry_after":7}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT faults: %v %v", err, resp)
	}
	resp.Body.Close()
	var codes []int
	for i := 0; i < 4; i++ {
		resp, _ := post(t, url+"/v1/chat/completions", chatBody, nil)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "7" {
			t.Fatal("Retry-After missing on an injected error")
		}
	}
	if got := []int{503, 200, 503, 200}; !equal(codes, got) {
		t.Fatalf("statuses %v, want %v", codes, got)
	}
	if s := m.Stats(); s.Chat != 4 || s.Failed != 2 {
		t.Fatalf("stats %+v", s)
	}
	bad, _ := http.NewRequest(http.MethodPut, url+"/_mock/faults", strings.NewReader(`{"eror_rate":1}`))
	resp, _ = http.DefaultClient.Do(bad)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("unknown fault field accepted: %d", resp.StatusCode)
	}
	resp, _ = post(t, url+"/_mock/reset", "", nil)
	if resp.StatusCode != 204 || m.Stats().Chat != 0 || !reflect.DeepEqual(m.Faults(), Faults{}) {
		t.Fatalf("reset: %d %+v", resp.StatusCode, m.Stats())
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOpenAIResponsesDecodeWithTheSDKTypes(t *testing.T) {
	_, url := newMock(t, Options{Name: "m"})
	_, data := post(t, url+"/v1/chat/completions", chatBody, nil)
	var cc openai.ChatCompletion
	if err := json.Unmarshal(data, &cc); err != nil || cc.Choices[0].Message.Content != "Hello from m! You said: hi there" || cc.Usage.TotalTokens == 0 {
		t.Fatalf("%v %s", err, data)
	}
	resp, data := post(t, url+"/v1/chat/completions", `{"model":"x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"s"}]}`, nil)
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatal("not an event stream")
	}
	var acc openai.ChatCompletionAccumulator
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	done := false
	for sc.Scan() {
		d, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if d == "[DONE]" {
			done = true
			continue
		}
		var c openai.ChatCompletionChunk
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			t.Fatal(err)
		}
		acc.AddChunk(c)
	}
	if !done || acc.Choices[0].Message.Content != "Hello from m! You said: s" || acc.Usage.TotalTokens == 0 {
		t.Fatalf("stream accumulated %+v done=%v", acc.ChatCompletion, done)
	}
	_, data = post(t, url+"/openai/deployments/dep/embeddings", `{"input":["a","b"],"dimensions":4}`, nil)
	var emb openai.CreateEmbeddingResponse
	if err := json.Unmarshal(data, &emb); err != nil || len(emb.Data) != 2 || len(emb.Data[1].Embedding) != 4 {
		t.Fatalf("%v %s", err, data)
	}
}

func TestAnthropicResponsesDecodeWithTheSDKTypes(t *testing.T) {
	m, url := newMock(t, Options{Name: "c", APIKey: "sk-ant"})
	h := map[string]string{"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
	body := `{"model":"claude-x","max_tokens":50,"messages":[{"role":"user","content":[{"type":"text","text":"hey"}]}]}`
	resp, data := post(t, url+"/v1/messages", body, h)
	var msg anthropicsdk.Message
	if err := json.Unmarshal(data, &msg); err != nil || resp.StatusCode != 200 || msg.Content[0].Text != "Hello from c! You said: hey" || msg.StopReason != "end_turn" {
		t.Fatalf("%d %v %s", resp.StatusCode, err, data)
	}
	_, data = post(t, url+"/v1/messages", strings.Replace(body, `"max_tokens":50`, `"max_tokens":50,"stream":true`, 1), h)
	var acc anthropicsdk.Message
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	events := 0
	for sc.Scan() {
		d, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev anthropicsdk.MessageStreamEventUnion
		if err := json.Unmarshal([]byte(d), &ev); err != nil {
			t.Fatal(err)
		}
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
		events++
	}
	if events < 6 || acc.Content[0].Text != "Hello from c! You said: hey" || acc.Usage.OutputTokens == 0 {
		t.Fatalf("%d events, accumulated %+v", events, acc)
	}
	// Auth, version header and the Anthropic error shape.
	resp, data = post(t, url+"/v1/messages", body, map[string]string{"x-api-key": "wrong", "anthropic-version": "2023-06-01"})
	if resp.StatusCode != 401 || !strings.Contains(string(data), `"type":"error"`) {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	resp, _ = post(t, url+"/v1/messages", body, map[string]string{"x-api-key": "sk-ant"})
	if resp.StatusCode != 400 {
		t.Fatalf("missing anthropic-version: %d", resp.StatusCode)
	}
	m.SetFaults(Faults{ErrorRate: 1, Status: 529})
	resp, data = post(t, url+"/v1/messages", body, h)
	if resp.StatusCode != 529 || !strings.Contains(string(data), "overloaded_error") {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
}

func TestHangEndsWhenTheClientLeaves(t *testing.T) {
	m, url := newMock(t, Options{})
	m.SetFaults(Faults{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(chatBody))
		_, err := http.DefaultClient.Do(req)
		errc <- err
	}()
	if err := m.WaitRequests(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("a hung request returned a response")
	}
	// httptest's Close in Cleanup blocks if the handler never ends.
}

// reply_words pads answers, for long answers and large streams: one
// streamed chunk per word.
func TestReplyWordsPadsTheAnswer(t *testing.T) {
	m, url := newMock(t, Options{})
	m.SetFaults(Faults{ReplyWords: 50})
	_, body := post(t, url+"/v1/chat/completions", chatBody, nil)
	var out openai.ChatCompletion
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(out.Choices[0].Message.Content)); n != 50 {
		t.Fatalf("%d words, want 50: %q", n, out.Choices[0].Message.Content)
	}
	_, stream := post(t, url+"/v1/chat/completions", `{"model":"x","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if n := strings.Count(string(stream), "lorem"); n < 40 {
		t.Fatalf("%d padding words streamed, want the padding in the stream", n)
	}
}

// delta_words streams several words in each text delta, as Anthropic's
// streams do, in each API.
func TestDeltaWordsGroupsTheStreamsText(t *testing.T) {
	m, url := newMock(t, Options{})
	m.SetFaults(Faults{ReplyWords: 30, DeltaWords: 4})
	for _, tc := range []struct {
		name, path, body, delta string
		headers                 map[string]string
	}{
		{"chat", "/v1/chat/completions", `{"model":"x","stream":true,"messages":[{"role":"user","content":"hi"}]}`, `"content":"`, nil},
		{"Messages", "/v1/messages", `{"model":"c","max_tokens":99,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, `"text_delta"`,
			map[string]string{"anthropic-version": "2023-06-01"}},
		{"Responses", "/v1/responses", `{"model":"x","stream":true,"input":"hi"}`, `"response.output_text.delta"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stream := post(t, url+tc.path, tc.body, tc.headers)
			deltas, lorems := 0, 0
			for _, line := range strings.Split(string(stream), "\n") {
				if strings.HasPrefix(line, "data: ") && strings.Contains(line, tc.delta) && strings.Contains(line, "lorem") {
					deltas++
					lorems += strings.Count(line, "lorem")
				}
			}
			if deltas == 0 || lorems < 16 || lorems/deltas < 3 {
				t.Fatalf("%d padding words in %d deltas, want about 4 a delta:\n%s", lorems, deltas, stream)
			}
		})
	}
}

// context_tokens gives the mock a context window and blocked_words a
// content policy: a prompt over either gets each provider's own 400 for
// it, and a prompt within both is answered.
func TestContextTokensAndBlockedWordsRefusePrompts(t *testing.T) {
	m, url := newMock(t, Options{})
	m.SetFaults(Faults{ContextTokens: 5, BlockedWords: []string{"forbidden"}})
	long := "one two three four five six seven"
	tests := []struct {
		name, path, body string
		headers          map[string]string
		status           int
		want             string
	}{
		{"OpenAI, too long", "/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"` + long + `"}]}`, nil,
			400, `"code":"context_length_exceeded"`},
		{"OpenAI, fits", "/v1/chat/completions", chatBody, nil, 200, `"chat.completion"`},
		{"OpenAI, a blocked word", "/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"say Forbidden!"}]}`, nil,
			400, `"code":"content_policy_violation"`},
		{"Anthropic, a blocked word", "/v1/messages", `{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"forbidden"}]}`,
			map[string]string{"anthropic-version": "2023-06-01"}, 400, `"message":"Output blocked by content filtering policy"`},
		{"Anthropic, too long", "/v1/messages", `{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"` + long + `"}]}`,
			map[string]string{"anthropic-version": "2023-06-01"}, 400, `"message":"prompt is too long: 8 tokens \u003e 5 maximum"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, url+tc.path, tc.body, tc.headers)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%d %s, want %d with %s", resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
}

func TestCutAfterBreaksTheStream(t *testing.T) {
	m, url := newMock(t, Options{})
	m.SetFaults(Faults{CutAfter: 2})
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(`{"model":"x","stream":true,"messages":[{"role":"user","content":"s"}]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("stream read cleanly: %s", data)
	}
	if n := strings.Count(string(data), "data: "); n != 2 || strings.Contains(string(data), "[DONE]") {
		t.Fatalf("%d events before the cut: %s", n, data)
	}
}

// stamp_chunks makes each streamed chunk's text the time it was sent.
func TestStampChunks(t *testing.T) {
	m := New(Options{Name: "m"})
	m.SetFaults(Faults{StampChunks: true})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	before := time.Now().UnixMicro()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"x","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`"content":"(\d+) "`)
	ms := re.FindAllStringSubmatch(string(data), -1)
	if len(ms) < 3 {
		t.Fatalf("no stamped chunks in %s", data)
	}
	for _, m := range ms {
		if v, _ := strconv.ParseInt(m[1], 10, 64); v < before || v > time.Now().UnixMicro() {
			t.Fatalf("stamp %s outside the request's time", m[1])
		}
	}
}

// A Responses stream numbers its events 0, 1, 2, ... in the order sent, as
// OpenAI's does, also for the text deltas that are made only when sent.
func TestResponsesStreamIsNumberedInOrder(t *testing.T) {
	_, url := newMock(t, Options{Name: "m"})
	_, data := post(t, url+"/v1/responses", `{"model":"x","stream":true,"input":"a few words to stream"}`, nil)
	want, deltas := 0, 0
	for _, line := range strings.Split(string(data), "\n") {
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type string `json:"type"`
			Seq  *int   `json:"sequence_number"`
		}
		if err := json.Unmarshal([]byte(d), &ev); err != nil || ev.Seq == nil || *ev.Seq != want {
			t.Fatalf("event %d: %v %s; want sequence_number %d", want, err, d, want)
		}
		if ev.Type == "response.output_text.delta" {
			deltas++
		}
		want++
	}
	if deltas < 2 || want < deltas+4 {
		t.Fatalf("%d events, %d text deltas: not a whole stream: %s", want, deltas, data)
	}
}

// Custom tools (free-form input) are GPT-5's: the mock's chat takes them
// there and refuses them elsewhere, as OpenAI's API and others refuse the
// type.
func TestChatCustomToolsAreGPT5s(t *testing.T) {
	_, url := newMock(t, Options{})
	for _, tc := range []struct {
		model  string
		status int
	}{{"gpt-5.1", 200}, {"gpt-6", 200}, {"gpt-4o", 400}, {"deepseek-chat", 400}} {
		t.Run(tc.model, func(t *testing.T) {
			resp, body := post(t, url+"/v1/chat/completions", `{"model":"`+tc.model+`","tools":[{"type":"custom","custom":{"name":"apply_patch"}}],`+
				`"messages":[{"role":"user","content":"hi"}]}`, nil)
			if resp.StatusCode != tc.status || tc.status == 400 && !strings.Contains(string(body), "Invalid value: 'custom'") {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.status)
			}
		})
	}
}

// OpenAI refuses an assistant's tool call id over 40 characters (another
// provider's, or one a gateway grew); the mock's Gemini does not.
func TestLongToolCallIDsAreRefused(t *testing.T) {
	_, url := newMock(t, Options{})
	body := func(id string) string {
		return `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"` + id +
			`","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"` + id + `","content":"ok"}]}`
	}
	long := "call_" + strings.Repeat("x", 36)
	for _, tc := range []struct {
		name, path, id string
		status         int
	}{
		{"OpenAI, 40 characters", "/v1/chat/completions", long[:40], 200},
		{"OpenAI, 41", "/v1/chat/completions", long, 400},
		{"Gemini, 41", "/v1beta/openai/chat/completions", long, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := post(t, url+tc.path, body(tc.id), nil)
			if resp.StatusCode != tc.status || tc.status == 400 && !strings.Contains(string(out), "string too long. Expected a string with maximum length 40") {
				t.Fatalf("%d %s, want %d", resp.StatusCode, out, tc.status)
			}
		})
	}
}

// missing_models plays a provider that does not serve a model (retired,
// or never had): each API answers a request for it as its provider does,
// and serves the others.
func TestMissingModelsAnswerAsTheirProviderDoes(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	m.SetFaults(Faults{MissingModels: []string{"gone"}})
	for _, tc := range []struct {
		name, path, body string
		headers          map[string]string
		want             string
	}{
		{"chat", "/v1/chat/completions", `{"model":"gone","messages":[{"role":"user","content":"hi"}]}`, nil,
			`{"error":{"code":"model_not_found","message":"The model ` + "`gone`" + ` does not exist or you do not have access to it.","param":null,"type":"invalid_request_error"}}`},
		{"responses", "/v1/responses", `{"model":"gone","input":"hi"}`, nil, `"code":"model_not_found"`},
		{"embeddings", "/v1/embeddings", `{"model":"gone","input":"hi"}`, nil, `"code":"model_not_found"`},
		{"messages", "/v1/messages", `{"model":"gone","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
			map[string]string{"anthropic-version": "2023-06-01"}, `{"error":{"message":"model: gone","type":"not_found_error"},"type":"error"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := post(t, url+tc.path, tc.body, tc.headers)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(data), tc.want) {
				t.Fatalf("%d %s; want 404 with %s", resp.StatusCode, data, tc.want)
			}
			other := strings.Replace(tc.body, `"gone"`, `"here"`, 1)
			if resp, data := post(t, url+tc.path, other, tc.headers); resp.StatusCode != http.StatusOK {
				t.Fatalf("another model: %d %s", resp.StatusCode, data)
			}
		})
	}
}

// out_of_credit plays an account that cannot pay, as each provider
// refuses its calls.
func TestOutOfCreditAnswersAsTheProviderDoes(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	m.SetFaults(Faults{OutOfCredit: true})
	for _, tc := range []struct {
		name, path, body string
		headers          map[string]string
		status           int
		want             string
	}{
		{"OpenAI", "/v1/chat/completions", chatBody, nil, 429, `"code":"insufficient_quota"`},
		{"Anthropic", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
			map[string]string{"anthropic-version": "2023-06-01"}, 400, `"message":"Your credit balance is too low to access the Anthropic API.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := post(t, url+tc.path, tc.body, tc.headers)
			if resp.StatusCode != tc.status || !strings.Contains(string(data), tc.want) {
				t.Fatalf("%d %s; want %d with %s", resp.StatusCode, data, tc.status, tc.want)
			}
		})
	}
}

// unverified_streams plays an OpenAI organization not verified to stream:
// streamed chat and Responses requests get OpenAI's 400; others are served.
func TestUnverifiedStreams(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	m.SetFaults(Faults{UnverifiedStreams: true})
	for _, tc := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"o3","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/responses", `{"model":"o3","stream":true,"input":"hi"}`},
	} {
		resp, data := post(t, url+tc.path, tc.body, nil)
		if resp.StatusCode != 400 || !strings.Contains(string(data), "must be verified to stream this model") {
			t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, data)
		}
		if resp, data := post(t, url+tc.path, strings.Replace(tc.body, `"stream":true`, `"stream":false`, 1), nil); resp.StatusCode != 200 {
			t.Fatalf("%s unstreamed: %d %s", tc.path, resp.StatusCode, data)
		}
	}
}
