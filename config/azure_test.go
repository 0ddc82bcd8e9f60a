package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Azure deployments authenticated with Microsoft Entra ID, as LiteLLM
// configs write them: a token given, an app's client secret, a user's
// password, a federated token (oidc/...), or, with
// enable_azure_ad_token_refresh, the environment's credential. A key the
// deployment gives wins (with a warning); the environment's key does not
// win over the deployment's own Entra ID keys. What breakerd cannot use
// is left out with a warning that says why; a partial credential is an
// error at its line.
func TestAzureEntraID(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: z\n    litellm_params:\n" +
		"      model: azure/gpt-4o\n      api_base: https://r.openai.azure.com\n"
	const login = "https://login.microsoftonline.com/"
	const refresh = "litellm_settings: {enable_azure_ad_token_refresh: true}\n"
	secret := "      tenant_id: os.environ/T\n      client_id: app-1\n      client_secret: os.environ/S\n"
	pfx := filepath.Join(t.TempDir(), "app.pfx")
	if err := os.WriteFile(pfx, []byte{0x30, 0x82, 0x0a, 0x01}, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       *Entra // nil: left out or no Entra ID (says is the warning), or an error (says is in it)
		key        Secret // the deployment's key, when it keeps one
		says       string
		err        bool
	}{
		{name: "an app's client secret, with the environment's key present", yaml: secret,
			env:  map[string]string{"T": "tenant-1", "S": "client-secret-1", "AZURE_API_KEY": "azure-key-not-used"},
			want: &Entra{TokenURL: login + "tenant-1/oauth2/v2.0/token", ClientID: "app-1", ClientSecret: "client-secret-1", Scope: EntraScope}},
		{name: "a credential's client secret, at another cloud's authority, for another scope",
			yaml: "      litellm_credential_name: entra\ncredential_list:\n  - credential_name: entra\n    credential_values: {tenant_id: t2, client_id: app-2, client_secret: client-secret-2}\n",
			env:  map[string]string{"AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us/", "AZURE_SCOPE": "https://cognitiveservices.azure.us/.default"},
			want: &Entra{TokenURL: "https://login.microsoftonline.us/t2/oauth2/v2.0/token", ClientID: "app-2", ClientSecret: "client-secret-2", Scope: "https://cognitiveservices.azure.us/.default"}},
		{name: "a token given as it is", yaml: "      azure_ad_token: os.environ/TOKEN\n", env: map[string]string{"TOKEN": "eyJ-static-token"},
			want: &Entra{Token: "eyJ-static-token", Scope: EntraScope}},
		{name: "the token LiteLLM reads from the environment", env: map[string]string{"AZURE_AD_TOKEN": "eyJ-env-token"},
			want: &Entra{Token: "eyJ-env-token", Scope: EntraScope}},
		{name: "a federated token in a file, for the environment's app",
			yaml: "      azure_ad_token: oidc/file//var/run/secrets/token\n", env: map[string]string{"AZURE_CLIENT_ID": "app-3", "AZURE_TENANT_ID": "t3"},
			want: &Entra{TokenURL: login + "t3/oauth2/v2.0/token", ClientID: "app-3", AssertionFile: "/var/run/secrets/token", Scope: EntraScope}},
		{name: "AKS's workload identity token, by oidc/azure/",
			yaml: "      azure_ad_token: oidc/azure/api://AzureADTokenExchange\n      tenant_id: t4\n      client_id: app-4\n",
			env:  map[string]string{"AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token"},
			want: &Entra{TokenURL: login + "t4/oauth2/v2.0/token", ClientID: "app-4", AssertionFile: "/var/run/secrets/azure/tokens/azure-identity-token", Scope: EntraScope}},
		{name: "a federated token with no app to trade it for", yaml: "      azure_ad_token: oidc/env/TOK\n", env: map[string]string{"TOK": "eyJ"},
			says: "azure_ad_token: trading a federated token (oidc/...) for an Entra ID token needs the app's tenant and client: tenant_id and client_id are not set, nor $AZURE_TENANT_ID and $AZURE_CLIENT_ID: this deployment is left out of routing"},
		{name: "a user's password", yaml: "      azure_username: bot@example.com\n      azure_password: os.environ/PW\n      client_id: app-5\n",
			env:  map[string]string{"PW": "user-password-1"},
			want: &Entra{TokenURL: login + "organizations/oauth2/v2.0/token", ClientID: "app-5", Username: "bot@example.com", Password: "user-password-1", Scope: EntraScope}},
		{name: "a key given wins, with a warning", yaml: secret + "      api_key: os.environ/K\n",
			env: map[string]string{"T": "t", "S": "client-secret-x", "K": "azure-key-given"}, key: "azure-key-given",
			says: "api_key: is set, so this deployment's calls carry it, and its Microsoft Entra ID credential"},
		{name: "a client secret without its tenant", yaml: "      client_id: app-1\n      client_secret: client-secret-1\n", err: true,
			says: "t.yaml:9:7: model_list[1].litellm_params.client_secret: a Microsoft Entra ID app's client secret needs its tenant_id and client_id (or $AZURE_TENANT_ID and $AZURE_CLIENT_ID): tenant_id not set"},
		{name: "a password without its user", yaml: "      azure_password: pw-123456\n      client_id: app-5\n", err: true,
			says: "azure_username: signing in as a user needs azure_username, azure_password and client_id"},
		{name: "nothing at all: a warning, and calls without a key",
			says: "this Azure deployment has no key and no Microsoft Entra ID credential, so its calls go without one and Azure will refuse them"},
		{name: "the environment's client secret (LiteLLM's default kind)", yaml: refresh,
			env:  map[string]string{"AZURE_TENANT_ID": "t6", "AZURE_CLIENT_ID": "app-6", "AZURE_CLIENT_SECRET": "client-secret-6"},
			want: &Entra{TokenURL: login + "t6/oauth2/v2.0/token", ClientID: "app-6", ClientSecret: "client-secret-6", Scope: EntraScope}},
		{name: "the environment's client secret, incomplete", yaml: refresh, env: map[string]string{"AZURE_TENANT_ID": "t6"},
			says: "litellm_settings.enable_azure_ad_token_refresh: the environment's client secret needs $AZURE_TENANT_ID, $AZURE_CLIENT_ID, $AZURE_CLIENT_SECRET: $AZURE_CLIENT_ID and $AZURE_CLIENT_SECRET not set: this deployment is left out of routing"},
		{name: "DefaultAzureCredential with a workload identity", yaml: refresh,
			env: map[string]string{"AZURE_CREDENTIAL": "DefaultAzureCredential", "AZURE_TENANT_ID": "t7", "AZURE_CLIENT_ID": "app-7",
				"AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token"},
			want: &Entra{TokenURL: login + "t7/oauth2/v2.0/token", ClientID: "app-7", AssertionFile: "/var/run/secrets/azure/tokens/azure-identity-token", Scope: EntraScope}},
		{name: "DefaultAzureCredential with nothing else: the managed identity, with a warning", yaml: refresh,
			env:  map[string]string{"AZURE_CREDENTIAL": "DefaultAzureCredential"},
			want: &Entra{ManagedIdentity: "http://169.254.169.254/metadata/identity/oauth2/token", Scope: EntraScope},
			says: "so its calls take the machine's managed identity's tokens, from http://169.254.169.254/metadata/identity/oauth2/token, as DefaultAzureCredential does"},
		{name: "a user-assigned managed identity on App Service", yaml: refresh,
			env: map[string]string{"AZURE_CREDENTIAL": "ManagedIdentityCredential", "AZURE_CLIENT_ID": "mi-8",
				"IDENTITY_ENDPOINT": "http://localhost:42356/msi/token", "IDENTITY_HEADER": "identity-header-8"},
			want: &Entra{ManagedIdentity: "http://localhost:42356/msi/token", IdentityHeader: "identity-header-8", ClientID: "mi-8", Scope: EntraScope}},
		{name: "a client certificate that is not PEM (a .pfx)", yaml: refresh,
			env: map[string]string{"AZURE_CREDENTIAL": "CertificateCredential", "AZURE_TENANT_ID": "t9", "AZURE_CLIENT_ID": "app-9",
				"AZURE_CLIENT_CERTIFICATE_PATH": pfx},
			says: "the environment's client certificate ($AZURE_CLIENT_CERTIFICATE_PATH) is not PEM (a PKCS #12 .pfx file is not read: convert it with `openssl pkcs12 -nodes`): this deployment is left out of routing"},
		{name: "a client certificate, incomplete", yaml: refresh,
			env:  map[string]string{"AZURE_CREDENTIAL": "CertificateCredential", "AZURE_TENANT_ID": "t9", "AZURE_CLIENT_ID": "app-9"},
			says: "the environment's client certificate needs $AZURE_TENANT_ID, $AZURE_CLIENT_ID, $AZURE_CLIENT_CERTIFICATE_PATH: $AZURE_CLIENT_CERTIFICATE_PATH not set: this deployment is left out of routing"},
		{name: "the Azure CLI's signed-in user", yaml: refresh, env: map[string]string{"AZURE_CREDENTIAL": "AzureCliCredential", "AZURE_TENANT_ID": "t10"},
			want: &Entra{AzureCLI: "az", Tenant: "t10", Scope: EntraScope}},
		{name: "a kind of credential breakerd does not take", yaml: refresh, env: map[string]string{"AZURE_CREDENTIAL": "InteractiveBrowserCredential"},
			says: "breakerd does not take $AZURE_CREDENTIAL=InteractiveBrowserCredential: this deployment is left out of routing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(tc.env))
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("error %v, want one saying %q", err, tc.says)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			warnings := strings.Join(cfg.Warnings, "\n")
			if !strings.Contains(warnings, tc.says) {
				t.Fatalf("warnings:\n%s\nwant one saying %q", warnings, tc.says)
			}
			if strings.Contains(tc.says, "left out") || len(cfg.Deployments) != 2 {
				if len(cfg.Deployments) != 1 || !strings.Contains(tc.says, "left out") {
					t.Fatalf("%d deployments, want z left out", len(cfg.Deployments))
				}
				return
			}
			d := cfg.Deployments[1]
			if tc.want != nil {
				tc.want.How = d.Entra.How // said in check-config; not compared
			}
			if !reflect.DeepEqual(d.Entra, tc.want) || d.APIKey != tc.key {
				t.Fatalf("entra %+v, key %q\nwant  %+v, key %q", d.Entra, d.APIKey.Value(), tc.want, tc.key.Value())
			}
			for _, s := range d.Secrets() {
				if s != "" && strings.Contains(warnings, s.Value()) {
					t.Fatalf("a warning shows the secret %q", s.Value())
				}
			}
		})
	}
}

// Entra ID keys elsewhere do nothing, and say so.
func TestEntraKeysOutsideAzureWarn(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, tenant_id: t}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	warningsStartWith(t, cfg.Warnings, []string{
		`t.yaml:3:44: model_list[0].litellm_params.tenant_id: is a Microsoft Entra ID credential, for Azure's deployments (azure/, azure_ai/); ignored for provider "openai"`,
	})
}

// An Azure api_version that is not one (a typo) loads with a warning: Azure
// would answer every call with a 404 breakerd cannot tell from an unknown
// object's.
func TestAzureAPIVersionForm(t *testing.T) {
	for _, tc := range []struct {
		version string
		warned  bool
	}{
		{"2024-02-15preview", true},
		{"2025-04-01 ", true},
		{"2024-10-21", false},
		{"2025-04-01-preview", false},
		{"v1", false},
		{"latest", false},
	} {
		t.Run(tc.version, func(t *testing.T) {
			cfg := parseExpecting(t, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: azure/prod, api_base: https://r.openai.azure.com, api_key: az-0123456789, api_version: \""+
				tc.version+"\"}\n"), env(nil), "")
			got := strings.Contains(strings.Join(cfg.Warnings, "\n"), "is not an Azure OpenAI api-version")
			if got != tc.warned {
				t.Fatalf("warned %v, want %v: %q", got, tc.warned, cfg.Warnings)
			}
		})
	}
}
