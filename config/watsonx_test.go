package config

import (
	"reflect"
	"strings"
	"testing"
)

// An IBM watsonx.ai deployment is read from its keys or the variables
// LiteLLM reads (LiteLLM's docs' config sets only the model and api_key):
// its address, its credential (an API key to trade for IAM tokens, a
// token, or a ZenApiKey), and its project or space; a deployment of a
// model in a space (watsonx/deployment/<id>) needs neither. One missing
// any of these is left out, saying which.
func TestWatsonx(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: w\n    litellm_params:\n"
	const iam = "https://iam.cloud.ibm.com/identity/token"
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       *Watsonx // nil: left out, saying says
		key, base  string
		version    string
		says       string
	}{
		{name: "LiteLLM's docs: the rest from the environment", yaml: "      model: watsonx/ibm/granite-3-8b-instruct\n      api_key: os.environ/WATSONX_APIKEY\n",
			env:  map[string]string{"WATSONX_APIKEY": "ibm-key-123456", "WATSONX_URL": "https://us-south.ml.cloud.ibm.com/", "WATSONX_PROJECT_ID": "p-1"},
			want: &Watsonx{ProjectID: "p-1", IAMURL: iam}, key: "ibm-key-123456", base: "https://us-south.ml.cloud.ibm.com", version: "2024-03-13"},
		{name: "all in the config", yaml: "      model: watsonx/meta-llama/llama-3-3-70b-instruct\n      api_key: ibm-key-123456\n" +
			"      api_base: https://eu-de.ml.cloud.ibm.com\n      watsonx_project: p-2\n      api_version: 2025-02-11\n",
			want: &Watsonx{ProjectID: "p-2", IAMURL: iam}, key: "ibm-key-123456", base: "https://eu-de.ml.cloud.ibm.com", version: "2025-02-11"},
		{name: "a space, and IAM elsewhere", yaml: "      model: watsonx/ibm/granite-3-8b-instruct\n      space_id: s-1\n",
			env:  map[string]string{"WX_API_KEY": "ibm-key-123456", "WX_URL": "https://x.example", "WATSONX_IAM_URL": "https://iam.test.cloud.ibm.com/identity/token"},
			want: &Watsonx{SpaceID: "s-1", IAMURL: "https://iam.test.cloud.ibm.com/identity/token"}, key: "ibm-key-123456", base: "https://x.example", version: "2024-03-13"},
		{name: "a deployment: no project", yaml: "      model: watsonx/deployment/dep-1\n      token: bearer-123456\n      api_base: https://x.example\n",
			want: &Watsonx{DeploymentID: "dep-1", Token: "bearer-123456", IAMURL: iam}, base: "https://x.example", version: "2024-03-13"},
		{name: "Cloud Pak's ZenApiKey", yaml: "      model: watsonx/ibm/granite-3-8b-instruct\n      zen_api_key: zen-123456\n      project_id: p-3\n      api_base: https://cpd.example\n",
			want: &Watsonx{ProjectID: "p-3", ZenAPIKey: "zen-123456", IAMURL: iam}, base: "https://cpd.example", version: "2024-03-13"},
		{name: "no credential", yaml: "      model: watsonx/ibm/granite-3-8b-instruct\n      api_base: https://x.example\n      project_id: p\n",
			says: "watsonx.ai needs a credential: api_key is not set, nor $WATSONX_APIKEY"},
		{name: "no address", yaml: "      model: watsonx/ibm/granite-3-8b-instruct\n      api_key: ibm-key-123456\n      project_id: p\n",
			says: "watsonx.ai needs its region's address: api_base is not set, nor $WATSONX_URL"},
		{name: "no project", yaml: "      model: watsonx/ibm/granite-3-8b-instruct\n      api_key: ibm-key-123456\n      api_base: https://x.example\n",
			says: "watsonx.ai needs the project or space the model runs in"},
		{name: "an unset variable", yaml: "      model: watsonx/ibm/granite-3-8b-instruct\n      api_key: os.environ/WATSONX_APIKEY\n",
			says: "environment variable WATSONX_APIKEY is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(tc.env), "")
			if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, tc.says) {
				t.Fatalf("warnings:\n%s\nwant one saying %q", w, tc.says)
			}
			if tc.want == nil {
				if len(cfg.Deployments) != 1 {
					t.Fatalf("%d deployments, want w left out", len(cfg.Deployments))
				}
				return
			}
			d := cfg.Deployments[1]
			if d.APIBase != tc.base || d.APIKey.Value() != tc.key || d.APIVersion != tc.version || d.Dialect != DialectOpenAI || !reflect.DeepEqual(d.Watsonx, tc.want) {
				t.Fatalf("deployment at %s key %q version %q, %+v; want %s %q %q, %+v", d.APIBase, d.APIKey.Value(), d.APIVersion, d.Watsonx,
					tc.base, tc.key, tc.version, tc.want)
			}
			if d.ParamRenames["max_completion_tokens"] != "max_tokens" {
				t.Errorf("renames %v, want max_completion_tokens sent as max_tokens", d.ParamRenames)
			}
			for _, s := range []Secret{tc.want.Token, tc.want.ZenAPIKey} {
				if s != "" && !strings.Contains(strings.Join(secretValues(d.Secrets()), " "), s.Value()) {
					t.Errorf("%q is not among the deployment's secrets, to be scrubbed", s.Value())
				}
			}
		})
	}
}

// watsonx.ai's keys on another provider's deployment are ignored, saying
// so.
func TestWatsonxKeysElsewhere(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, project_id: p}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, "project_id: is for IBM watsonx.ai's deployments (watsonx/<model>); ignored for provider \"openai\"") {
		t.Fatalf("warnings:\n%s", w)
	}
}

func secretValues(ss []Secret) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Value()
	}
	return out
}
