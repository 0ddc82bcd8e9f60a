package gateway_test

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/mockllm"
)

// LiteLLM's ssl_verify: an upstream with a certificate no system CA
// signed (an internal server's) is refused by default; ssl_verify: false
// (the deployment's, or litellm_settings' for every one) calls it without
// the check, a CA bundle's path checks it against that bundle, and a
// deployment's own true wins over litellm_settings' false.
func TestSSLVerify(t *testing.T) {
	upstream := httptest.NewTLSServer(mockllm.New(mockllm.Options{Name: "internal"}).Handler())
	defer upstream.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: upstream.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, params, settings string
		want                   int
	}{
		{"checked by default", "", "", 503},
		{"not checked", "      ssl_verify: false\n", "", 200},
		{"against a CA bundle", "      ssl_verify: " + bundle + "\n", "", 200},
		{"not checked, for every deployment", "", "litellm_settings: {ssl_verify: false}\n", 200},
		{"a deployment's own check wins", "      ssl_verify: true\n", "litellm_settings: {ssl_verify: false}\n", 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := chatOnce(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/my-model\n"+
				"      api_base: "+upstream.URL+"/v1\n      api_key: sk-upstream-key\n"+tc.params+
				"router_settings: {num_retries: 0}\n"+tc.settings)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, data)
			}
			// A refused certificate's error says how to trust it.
			if tc.want == 503 && !strings.Contains(string(data), "set the deployment's ssl_verify to that CA's bundle") {
				t.Fatalf("the error does not say how to trust the certificate: %s", data)
			}
		})
	}
}
