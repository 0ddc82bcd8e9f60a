package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A self-signed certificate's PEM, for a CA bundle.
const testCA = `-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIQIRi6zePL6mKjOipn+dNuaTAKBggqhkjOPQQDAjASMRAw
DgYDVQQKEwdBY21lIENvMB4XDTE3MTAyMDE5NDMwNloXDTE4MTAyMDE5NDMwNlow
EjEQMA4GA1UEChMHQWNtZSBDbzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD0d
7VNhbWvZLWPuj/RtHFjvtJBEwOkhbN/BnnE8rnZR8+sbwnc/KhCk3FhnpHZnQz7B
5aETbbIgmuvewdjvSBSjYzBhMA4GA1UdDwEB/wQEAwICpDATBgNVHSUEDDAKBggr
BgEFBQcDATAPBgNVHRMBAf8EBTADAQH/MCkGA1UdEQQiMCCCDmxvY2FsaG9zdDo1
NDUzgg4xMjcuMC4wLjE6NTQ1MzAKBggqhkjOPQQDAgNIADBFAiEA2zpJEPQyz6/l
Wf86aX6PepsntZv2GYlA5UpabfT2EZICICpJ5h/iI+i341gBmLiAFQOyTDT+/wQc
6MF9+Yw1Yy0t
-----END CERTIFICATE-----
`

// LiteLLM's ssl_verify loads: false (a boolean or a string), a CA
// bundle's path (its certificates read), litellm_settings' as every
// deployment's default, else $SSL_VERIFY's; a deployment's own wins;
// skipping the checks is warned about; a path to no bundle is an error
// at its line.
func TestSSLVerifyLoads(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bundle, []byte(testCA), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	deployment := func(params string) string {
		return "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      api_base: https://llm.internal/v1\n      api_key: sk-test-key\n" + params
	}
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		skip       bool
		cas        bool
		warning    string
		failure    string
	}{
		{"checked", deployment(""), nil, false, false, "", ""},
		{"not checked", deployment("      ssl_verify: false\n"), nil, true, false, "model_list[0].litellm_params.ssl_verify: calls to https:// upstreams do not check", ""},
		{"not checked, as a string", deployment("      ssl_verify: \"False\"\n"), nil, true, false, "do not check", ""},
		{"a CA bundle", deployment("      ssl_verify: " + bundle + "\n"), nil, false, true, "", ""},
		{"every deployment's", deployment("") + "litellm_settings: {ssl_verify: false}\n", nil, true, false, "litellm_settings.ssl_verify: calls to", ""},
		{"the deployment's own wins", deployment("      ssl_verify: true\n") + "litellm_settings: {ssl_verify: false}\n", nil, false, false, "litellm_settings.ssl_verify: calls to", ""},
		{"the environment's", deployment(""), map[string]string{"SSL_VERIFY": "False"}, true, false, "$SSL_VERIFY: calls to", ""},
		{"no such bundle", deployment("      ssl_verify: /no/such/ca.pem\n"), nil, false, false, "",
			"t.yaml:7:7: model_list[0].litellm_params.ssl_verify: is neither true, false nor a CA bundle"},
		{"not a bundle", deployment("      ssl_verify: " + notPEM + "\n"), nil, false, false, "", "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(tc.yaml), env(tc.env), tc.failure)
			if cfg == nil {
				return
			}
			d := cfg.Deployments[0]
			if d.TLSSkipVerify != tc.skip || (d.TLSRootCAs != nil) != tc.cas {
				t.Fatalf("skip %v, CAs %v; want %v, %v", d.TLSSkipVerify, d.TLSRootCAs != nil, tc.skip, tc.cas)
			}
			all := strings.Join(cfg.Warnings, "\n")
			if tc.warning != "" && !strings.Contains(all, tc.warning) || tc.warning == "" && strings.Contains(all, "TLS") {
				t.Fatalf("warnings:\n%s\nwant %q", all, tc.warning)
			}
		})
	}
}
