package provider

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// inliner fetches the images and documents a Messages request names by
// URL, and puts them in the request as data, for the upstreams that take
// them only so (Claude on Bedrock and on Vertex AI), as LiteLLM does.
//
// It fetches only from public addresses: a client must not reach, through
// breakerd, what only breakerd can (a metadata service, an internal
// host). Each fetch is bounded in time and size, and a redirect is
// checked as the first address is.
type inliner struct {
	client *http.Client
	// max is the most bytes one fetch reads (maxInlined).
	max int64
	// recent holds what was fetched in the last fetchedFor, so that a
	// retry or a fallback to another deployment that inlines does not
	// fetch the same URL again.
	mu     sync.Mutex
	recent map[string]fetched
	size   int64 // the bytes recent holds
	now    func() time.Time
}

// fetched is a URL's bytes and media type, and when they were fetched.
type fetched struct {
	data      []byte
	mediaType string
	at        time.Time
}

// fetchedFor is how long a fetched image or document is reused, and
// maxFetchedBytes the most recent holds (past it, expired entries go,
// then others until the new one fits).
const (
	fetchedFor      = time.Minute
	maxFetchedBytes = 128 << 20
)

// maxInlined bounds one fetched image or document: Anthropic takes images
// of up to 5 MB and PDFs of up to 32 MB; Bedrock less.
const maxInlined = 32 << 20

// inlineTimeout bounds one fetch, within the call's own deadline.
const inlineTimeout = 30 * time.Second

// newInliner returns an inliner whose connections go only to addresses
// allowed reports true for (publicAddr, outside tests).
func newInliner(allowed func(netip.Addr) bool) *inliner {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !allowed(ap.Addr().Unmap()) {
			return errNotPublic
		}
		return nil
	}}
	t := &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second, MaxIdleConns: 16, IdleConnTimeout: 30 * time.Second}
	return &inliner{client: &http.Client{Transport: t, Timeout: inlineTimeout}, max: maxInlined, recent: map[string]fetched{}, now: time.Now}
}

// cached fetches rawURL as fetch does, or reuses what it fetched in the
// last fetchedFor. The media type is checked against kind either way.
func (in *inliner) cached(ctx context.Context, rawURL, kind string) ([]byte, string, error) {
	now := in.now()
	in.mu.Lock()
	f, ok := in.recent[rawURL]
	in.mu.Unlock()
	if ok && now.Sub(f.at) < fetchedFor && slices.Contains(inlineTypes[kind], f.mediaType) {
		return f.data, f.mediaType, nil
	}
	data, mediaType, err := in.fetch(ctx, rawURL, kind)
	if err != nil {
		return nil, "", err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for u, old := range in.recent { // few entries: each is an image or a document
		if now.Sub(old.at) >= fetchedFor || in.size+int64(len(data)) > maxFetchedBytes {
			delete(in.recent, u)
			in.size -= int64(len(old.data))
		}
	}
	if old, ok := in.recent[rawURL]; ok {
		in.size -= int64(len(old.data))
	}
	if in.size+int64(len(data)) <= maxFetchedBytes {
		in.recent[rawURL] = fetched{data: data, mediaType: mediaType, at: now}
		in.size += int64(len(data))
	}
	return data, mediaType, nil
}

var errNotPublic = errors.New("breakerd fetches images and documents only from public addresses")

// publicAddr reports whether a is an address on the internet: not
// loopback, private (RFC 1918, RFC 4193), shared (100.64/10),
// link-local (where cloud metadata services are), multicast or
// unspecified.
func publicAddr(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

// inline returns buf, a Messages request, with each image and document
// source given by URL (in messages' content and tool results) replaced
// by its data. A request with none is returned as it is; a source that
// cannot be fetched is the request's error (400), naming it.
func (in *inliner) inline(ctx context.Context, buf []byte) ([]byte, error) {
	if !bytes.Contains(buf, []byte(`"url"`)) {
		return buf, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(buf, &m) != nil {
		return buf, nil // the request's own encoding reports it
	}
	var msgs []map[string]json.RawMessage
	if json.Unmarshal(m["messages"], &msgs) != nil {
		return buf, nil
	}
	changed := false
	for i, msg := range msgs {
		content, n, err := in.blocks(ctx, msg["content"], fmt.Sprintf("messages[%d].content", i))
		if err != nil {
			return nil, err
		}
		if n > 0 {
			msg["content"], changed = content, true
		}
	}
	if !changed {
		return buf, nil
	}
	m["messages"], _ = json.Marshal(msgs)
	return json.Marshal(m)
}

// blocks inlines the URL sources of a content list (at path, for
// errors), recursing into tool results; n is how many it inlined.
func (in *inliner) blocks(ctx context.Context, raw json.RawMessage, path string) (json.RawMessage, int, error) {
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return raw, 0, nil // a string
	}
	total := 0
	for j, b := range list {
		var kind string
		_ = json.Unmarshal(b["type"], &kind)
		at := fmt.Sprintf("%s[%d]", path, j)
		if kind == "tool_result" {
			content, n, err := in.blocks(ctx, b["content"], at+".content")
			if err != nil {
				return nil, 0, err
			}
			b["content"], total = content, total+n
			continue
		}
		var src struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		}
		if (kind != "image" && kind != "document") || json.Unmarshal(b["source"], &src) != nil || src.Type != "url" {
			continue
		}
		data, mediaType, err := in.cached(ctx, src.URL, kind)
		if err != nil {
			return nil, 0, badRequest("%s: could not fetch the %s at %s: %v", at, kind, src.URL, err)
		}
		b["source"], _ = json.Marshal(map[string]string{"type": "base64", "media_type": mediaType, "data": base64.StdEncoding.EncodeToString(data)})
		total++
	}
	if total == 0 {
		return raw, 0, nil
	}
	out, err := json.Marshal(list)
	return out, total, err
}

// inlineTypes are the media types each kind of block takes as data.
var inlineTypes = map[string][]string{
	"image":    {"image/jpeg", "image/png", "image/gif", "image/webp"},
	"document": {"application/pdf"},
}

// fetch gets rawURL's bytes and media type, which must be one a block of
// kind takes: the server's Content-Type, else what the bytes show.
func (in *inliner) fetch(ctx context.Context, rawURL, kind string) ([]byte, string, error) {
	if !strings.HasPrefix(rawURL, "https://") && !strings.HasPrefix(rawURL, "http://") {
		return nil, "", errors.New("not an http(s) URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := in.client.Do(req)
	if err != nil {
		if errors.Is(err, errNotPublic) {
			return nil, "", errNotPublic
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, said already
		}
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("it answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, in.max+1))
	if err != nil {
		return nil, "", err
	}
	if int64(len(data)) > in.max {
		return nil, "", fmt.Errorf("it is larger than %d MB", in.max>>20)
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	for _, t := range []string{mediaType, strings.Split(http.DetectContentType(data), ";")[0]} {
		for _, ok := range inlineTypes[kind] {
			if t == ok {
				return data, t, nil
			}
		}
	}
	return nil, "", fmt.Errorf("it is %s, not one of %s", cmp.Or(mediaType, "of no type"), strings.Join(inlineTypes[kind], ", "))
}
