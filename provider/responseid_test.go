package provider_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/provider"
)

// litellmID is an id in LiteLLM's format, as a LiteLLM proxy hands it out
// (base64 of "litellm:custom_llm_provider:azure;model_id:eu-gpt-4o;
// response_id:resp_67ccd2bed1ec8190b14f964abc054267").
const litellmID = "resp_bGl0ZWxsbTpjdXN0b21fbGxtX3Byb3ZpZGVyOmF6dXJlO21vZGVsX2lkOmV1LWdwdC00bztyZXNwb25zZV9pZDpyZXNwXzY3Y2NkMmJlZDFlYzgxOTBiMTRmOTY0YWJjMDU0MjY3"

func TestResponseIDsNameTheirDeployment(t *testing.T) {
	tests := []struct {
		name                 string
		id                   string
		provider, deployment string
		upstream             string
		ok                   bool
	}{
		{"LiteLLM's own ids decode", litellmID, "azure", "eu-gpt-4o", "resp_67ccd2bed1ec8190b14f964abc054267", true},
		{"without their padding too", strings.TrimRight(provider.EncodeResponseID("openai", "b", "resp_1"), "="), "openai", "b", "resp_1", true},
		{"an upstream's own id is not one", "resp_67ccd2bed1ec8190b14f964abc054267", "", "", "", false},
		{"another object's id is not one", "msg_abc", "", "", "", false},
		{"base64 of something else is not one", "resp_aGVsbG8gd29ybGQ=", "", "", "", false},
		{"an id without its upstream id is not one", "resp_" + "bGl0ZWxsbTpjdXN0b21fbGxtX3Byb3ZpZGVyOm9wZW5haTttb2RlbF9pZDphO3Jlc3BvbnNlX2lkOg==", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, d, up, ok := provider.DecodeResponseID(tt.id)
			if p != tt.provider || d != tt.deployment || up != tt.upstream || ok != tt.ok {
				t.Fatalf("DecodeResponseID(%q) = %q %q %q %v", tt.id, p, d, up, ok)
			}
		})
	}
}

func TestEncodeResponseID(t *testing.T) {
	id := provider.EncodeResponseID("azure", "eu-gpt-4o", "resp_67ccd2bed1ec8190b14f964abc054267")
	if p, d, up, ok := provider.DecodeResponseID(id); !ok || p != "azure" || d != "eu-gpt-4o" || up != "resp_67ccd2bed1ec8190b14f964abc054267" {
		t.Fatalf("%s decoded to %q %q %q %v", id, p, d, up, ok)
	}
	if again := provider.EncodeResponseID("openai", "other", id); again != id {
		t.Fatalf("an encoded id was encoded again: %s", again)
	}
	if again := provider.EncodeResponseID("openai", "other", litellmID); again != litellmID {
		t.Fatalf("LiteLLM's id was encoded again: %s", again)
	}
	// Names with the format's separators in them survive, and the id
	// needs no escaping in a URL path ("?" and ">" make "/" and "+" in
	// the standard alphabet).
	id = provider.EncodeResponseID("openai", "team;a/gpt-4o#2??>>", "resp_x")
	if strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		t.Fatalf("%s needs escaping in a URL", id)
	}
	if _, d, up, ok := provider.DecodeResponseID(id); !ok || d != "team;a/gpt-4o#2??>>" || up != "resp_x" {
		t.Fatalf("decoded %q %q %v", d, up, ok)
	}
}

// A LiteLLM proxy's model-routed ids (its own docstring's example among
// them) read as the upstream's id and the model; breakerd's own ids and
// others do not.
func TestDecodeLiteLLMModelID(t *testing.T) {
	for _, tc := range []struct {
		in, id, model string
		ok            bool
	}{
		{"file-bGl0ZWxsbTpmaWxlLWFiYzEyMzttb2RlbCxncHQtNG8taWZvb2Q", "file-abc123", "gpt-4o-ifood", true},
		{"batch_" + base64.URLEncoding.EncodeToString([]byte("litellm:batch_xyz;model,gpt-4o-batch;sub,u1;sig,abc")), "batch_xyz", "gpt-4o-batch", true},
		{provider.EncodeFileID("openai", "a", "file-1"), "", "", false},
		{"file-abc123", "", "", false},
		{"resp_" + base64.RawURLEncoding.EncodeToString([]byte("litellm:resp_1;model,m")), "", "", false},
	} {
		id, model, ok := provider.DecodeLiteLLMModelID(tc.in)
		if id != tc.id || model != tc.model || ok != tc.ok {
			t.Errorf("%s: %q %q %v, want %q %q %v", tc.in, id, model, ok, tc.id, tc.model, tc.ok)
		}
	}
}
