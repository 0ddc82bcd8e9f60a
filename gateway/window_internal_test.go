package gateway

import (
	"strings"
	"testing"
)

// A prompt's estimate counts the text a model reads, four characters a
// token, in every API's request, and not media sent as data, ids, kinds
// or the JSON around them.
func TestEstimateTokens(t *testing.T) {
	long := strings.Repeat("abcd", 100) // 100 tokens
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"chat text", `{"model":"a-very-long-model-name","messages":[{"role":"user","content":"` + long + `"}]}`, 100},
		{"chat parts, an image as data left out", `{"messages":[{"role":"user","content":[{"type":"text","text":"` + long + `"},` +
			`{"type":"image_url","image_url":{"url":"data:image/png;base64,` + strings.Repeat("A", 4000) + `"}}]}]}`, 100},
		{"a PDF file part left out", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,` + strings.Repeat("A", 4000) + `","filename":"a"}}]}]}`, 1},
		{"Messages: system, a base64 image and a tool result", `{"system":"` + long + `","messages":[{"role":"user","content":[` +
			`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + strings.Repeat("A", 4000) + `"}},` +
			`{"type":"tool_result","tool_use_id":"toolu_0123456789","content":"` + long + `"}]}]}`, 200},
		{"Responses: instructions and input", `{"instructions":"` + long + `","input":"` + long + `"}`, 200},
		{"tools count", `{"messages":[],"tools":[{"type":"function","function":{"name":"abcd","description":"` + long + `"}}]}`, 101},
		{"not JSON", `{"messages":`, 0},
		{"no text", `{"model":"m","temperature":1}`, 0},
	} {
		if got := estimateTokens([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: %d tokens, want %d", tc.name, got, tc.want)
		}
	}
}

// BenchmarkEstimateTokens estimates a 2 KB chat prompt, as a context
// window check, a count_tokens call without a counting upstream, and each
// stream (its usage's estimate if it breaks) do.
func BenchmarkEstimateTokens(b *testing.B) {
	body := []byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"system","content":"` + strings.Repeat("You are helpful. ", 50) +
		`"},{"role":"user","content":"` + strings.Repeat("hello world\n", 100) + `"}]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		estimateTokens(body)
	}
}

// Any body, JSON or not, gets an estimate no larger than its length
// allows, and never a panic.
func FuzzEstimateTokens(f *testing.F) {
	f.Add(`{"messages":[{"role":"user","content":"h\u00e9llo \"there\"\n"}]}`)
	f.Add(`{"input":"\u`)
	f.Add(`]]}}{"system":"x"`)
	f.Fuzz(func(t *testing.T, body string) {
		if n := estimateTokens([]byte(body)); n < 0 || n > (len(body)+3)/4 {
			t.Fatalf("estimateTokens(%q) = %d", body, n)
		}
	})
}
