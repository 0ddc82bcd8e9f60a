package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Only addresses on the internet are fetched from by default: not
// loopback, private, shared, link-local (cloud metadata services) or
// unspecified ones, in IPv4 or IPv6.
func TestPublicAddr(t *testing.T) {
	for addr, public := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true, "52.94.236.248": true,
		"127.0.0.1": false, "::1": false, "10.0.0.5": false, "172.16.3.4": false, "192.168.1.1": false,
		"100.64.0.1": false, "169.254.169.254": false, "fe80::1": false, "fd00:ec2::254": false,
		"0.0.0.0": false, "::": false, "224.0.0.1": false, "::ffff:127.0.0.1": false,
	} {
		if got := publicAddr(netip.MustParseAddr(addr).Unmap()); got != public {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, public)
		}
	}
}

// mediaServer serves an image, a PDF (as octet-stream: its bytes say
// what it is), a page and a missing file.
func mediaServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cat.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write([]byte("\x89PNG\r\n\x1a\ncat"))
		case "/report":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte("%PDF-1.7 report"))
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<html>login</html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A request's images and documents by URL, in messages and in tool
// results, are fetched and put in it as data, of the media type the
// server or the bytes give; the rest of the request is left as it is.
// What cannot be fetched, or is not an image or a PDF, is the request's
// error, naming the block.
func TestInlineFetchesURLSources(t *testing.T) {
	srv := mediaServer(t)
	in := newInliner(func(netip.Addr) bool { return true })
	req := `{"model":"m","max_tokens":12345678901234567,"messages":[` +
		`{"role":"user","content":"no blocks, url in text"},` +
		`{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"url","url":"` + srv.URL + `/cat.png"},"cache_control":{"type":"ephemeral"}},` +
		`{"type":"image","source":{"type":"base64","media_type":"image/gif","data":"R0lG"}}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"read","input":{}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"document","source":{"type":"url","url":"` + srv.URL + `/report"},"title":"Q3"}]}]}]}`
	out, err := in.inline(context.Background(), []byte(req))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		MaxTokens json.Number `json:"max_tokens"`
		Messages  []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	for i, want := range []string{
		`"no blocks, url in text"`,
		`[{"text":"look","type":"text"},{"cache_control":{"type":"ephemeral"},"source":{"data":"` + b64([]byte("\x89PNG\r\n\x1a\ncat")) + `","media_type":"image/png","type":"base64"},"type":"image"},{"source":{"type":"base64","media_type":"image/gif","data":"R0lG"},"type":"image"}]`,
		`[{"type":"tool_use","id":"t1","name":"read","input":{}}]`,
		`[{"content":[{"source":{"data":"` + b64([]byte("%PDF-1.7 report")) + `","media_type":"application/pdf","type":"base64"},"title":"Q3","type":"document"}],"tool_use_id":"t1","type":"tool_result"}]`,
	} {
		if string(got.Messages[i].Content) != want {
			t.Errorf("messages[%d].content:\n%s\nwant\n%s", i, got.Messages[i].Content, want)
		}
	}
	if got.MaxTokens != "12345678901234567" {
		t.Errorf("max_tokens %s: the rest of the request changed", got.MaxTokens)
	}
	none := `{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`
	if out, err := in.inline(context.Background(), []byte(none)); err != nil || string(out) != none {
		t.Errorf("a request with no URL: %s %v", out, err)
	}
	for _, tc := range []struct{ block, says string }{
		{`{"type":"image","source":{"type":"url","url":"` + srv.URL + `/page"}}`, "messages[0].content[0]: could not fetch the image at " + srv.URL + "/page: it is text/html, not one of image/jpeg, image/png, image/gif, image/webp"},
		{`{"type":"document","source":{"type":"url","url":"` + srv.URL + `/cat.png"}}`, "it is image/png, not one of application/pdf"},
		{`{"type":"image","source":{"type":"url","url":"` + srv.URL + `/gone"}}`, "it answered 404 Not Found"},
		{`{"type":"image","source":{"type":"url","url":"ftp://example.com/a.png"}}`, "not an http(s) URL"},
	} {
		_, err := in.inline(context.Background(), []byte(`{"messages":[{"role":"user","content":[`+tc.block+`]}]}`))
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, tc.says) {
			t.Errorf("%s: %v, want a 400 saying %q", tc.block, err, tc.says)
		}
	}
	small := newInliner(func(netip.Addr) bool { return true })
	small.max = 4
	_, err = small.inline(context.Background(), []byte(`{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"`+srv.URL+`/cat.png"}}]}]}`))
	if err == nil || !strings.Contains(err.Error(), "it is larger than") {
		t.Errorf("too large: %v", err)
	}
}

// By default nothing is fetched from a private address: a client cannot
// reach, through breakerd, a host only breakerd can.
func TestInlineRefusesPrivateAddresses(t *testing.T) {
	srv := mediaServer(t)
	_, err := newInliner(publicAddr).inline(context.Background(),
		[]byte(`{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"`+srv.URL+`/cat.png"}}]}]}`))
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !strings.HasSuffix(e.Message, ": breakerd fetches images and documents only from public addresses") {
		t.Fatalf("%v, want a 400 saying so", err)
	}
}

// A URL fetched in the last minute is not fetched again (a retry, or a
// fallback to another deployment that takes media only as data); after
// it, it is.
func TestInlineReusesARecentFetch(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("\x89PNG\r\n\x1a\ncat"))
	}))
	defer srv.Close()
	in := newInliner(func(netip.Addr) bool { return true })
	now := time.Unix(1_800_000_000, 0)
	in.now = func() time.Time { return now }
	req := []byte(`{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"` + srv.URL + `/cat.png"}}]}]}`)
	for i, tc := range []struct {
		after time.Duration
		hits  int32
	}{{0, 1}, {0, 1}, {59 * time.Second, 1}, {2 * time.Second, 2}} {
		now = now.Add(tc.after)
		if _, err := in.inline(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if got := hits.Load(); got != tc.hits {
			t.Fatalf("call %d: %d fetches, want %d", i, got, tc.hits)
		}
	}
}
