package config

import (
	"reflect"
	"strings"
	"testing"
)

// Amazon Bedrock deployments, as LiteLLM configs write them: Claude (at
// InvokeModel) and other models (at Converse) with
// an access key (in the deployment, a credential or the environment) or
// a Bedrock API key, its region from the deployment, the model's ARN or
// the environment; what breakerd cannot call (invoke/ of another model,
// profiles, roles) is left out with a warning that says why, and half a key is an
// error at its line.
func TestBedrock(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: c\n    litellm_params:\n"
	const claude = "      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0\n"
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       Deployment // Bedrock nil: left out (says is the warning), or an error (says is in it)
		says       string
		err        bool
	}{
		{name: "an access key in the deployment, with a session token",
			yaml: claude + "      aws_access_key_id: os.environ/ID\n      aws_secret_access_key: os.environ/SECRET\n      aws_session_token: os.environ/TOKEN\n      aws_region_name: eu-west-1\n",
			env:  map[string]string{"ID": "AKIDTEST", "SECRET": "secret-key", "TOKEN": "session"},
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.eu-west-1.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "eu-west-1", Key: AWSKey{ID: "AKIDTEST", Secret: "secret-key", SessionToken: "session"}}}}},
		{name: "a Bedrock API key, in LiteLLM's default region",
			yaml: claude + "      api_key: os.environ/BEDROCK_KEY\n", env: map[string]string{"BEDROCK_KEY": "bedrock-api-key-1"},
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIKey: "bedrock-api-key-1", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-west-2"}}}},
		{name: "the API key LiteLLM reads from the environment",
			yaml: claude, env: map[string]string{"AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-2", "AWS_REGION": "ap-south-1", "AWS_ACCESS_KEY_ID": "AKIDNOTUSED"},
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIKey: "bedrock-api-key-2", APIBase: "https://bedrock-runtime.ap-south-1.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "ap-south-1"}}}},
		{name: "the access key in the environment; the region LiteLLM reads first",
			yaml: claude, env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_REGION_NAME": "us-east-2", "AWS_DEFAULT_REGION": "eu-north-1"},
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.us-east-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-east-2", Key: AWSKey{ID: "AKIDENV", Secret: "env-secret"}}}}},
		{name: "model_id's ARN gives the region; invoke/ is LiteLLM's marker",
			yaml: "      model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0\n      model_id: arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/abc\n      api_key: bedrock-api-key-3\n",
			want: Deployment{Model: "us.anthropic.claude-sonnet-4-20250514-v1:0", APIKey: "bedrock-api-key-3", APIBase: "https://bedrock-runtime.eu-central-1.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/abc", AWSAuth: AWSAuth{Region: "eu-central-1"}}}},
		{name: "a credential's access key, at an endpoint of its own",
			yaml: claude + "      litellm_credential_name: aws\n      api_base: https://ignored.example\n" +
				"credential_list:\n  - credential_name: aws\n    credential_values: {aws_access_key_id: AKIDCRED, aws_secret_access_key: cred-secret, aws_bedrock_runtime_endpoint: 'https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com/'}\n",
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-west-2", Key: AWSKey{ID: "AKIDCRED", Secret: "cred-secret"}}}}},
		{name: "converse/: Claude through the Converse API, as LiteLLM calls it",
			yaml: "      model: bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0\n      api_key: k-123456\n",
			want: Deployment{Model: "anthropic.claude-3-haiku-20240307-v1:0", APIKey: "k-123456", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-haiku-20240307-v1:0", Converse: true, AWSAuth: AWSAuth{Region: "us-west-2"}}}},
		{name: "bedrock_converse/: the Converse API",
			yaml: "      model: bedrock_converse/anthropic.claude-3-haiku-20240307-v1:0\n      api_key: k-123456\n",
			want: Deployment{Model: "anthropic.claude-3-haiku-20240307-v1:0", APIKey: "k-123456", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-haiku-20240307-v1:0", Converse: true, AWSAuth: AWSAuth{Region: "us-west-2"}}}},
		{name: "a model other than Claude: the Converse API", yaml: "      model: bedrock/meta.llama3-1-70b-instruct-v1:0\n      api_key: k-123456\n",
			want: Deployment{Model: "meta.llama3-1-70b-instruct-v1:0", APIKey: "k-123456", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "meta.llama3-1-70b-instruct-v1:0", Converse: true, AWSAuth: AWSAuth{Region: "us-west-2"}}}},
		{name: "an embedding model, at InvokeModel", yaml: "      model: bedrock/amazon.titan-embed-text-v2:0\n      api_key: k-123456\n",
			want: Deployment{Model: "amazon.titan-embed-text-v2:0", APIKey: "k-123456", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com", Embeddings: true,
				Bedrock: &Bedrock{ModelID: "amazon.titan-embed-text-v2:0", AWSAuth: AWSAuth{Region: "us-west-2"}}}},
		{name: "invoke/ with a model other than Claude", yaml: "      model: bedrock/invoke/meta.llama3-1-70b-instruct-v1:0\n      api_key: k-123456\n",
			says: `invoke/ calls "meta.llama3-1-70b-instruct-v1:0" with its own InvokeModel format, which breakerd does not speak: this deployment is left out of routing; write bedrock/meta.llama3-1-70b-instruct-v1:0 to call it through the Converse API`},
		{name: "no credentials: the EC2 instance's role, with a warning", yaml: claude,
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-west-2", Instance: "http://169.254.169.254"}}},
			says: "t.yaml:6:7: model_list[1].litellm_params.model: Bedrock gets no credentials from the config or the environment: aws_access_key_id is not set, nor aws_role_name, nor api_key, nor $AWS_BEARER_TOKEN_BEDROCK, $AWS_ACCESS_KEY_ID, $AWS_ROLE_ARN with $AWS_WEB_IDENTITY_TOKEN_FILE, or a container's credentials: its calls take the EC2 instance's role, from the instance metadata service (http://169.254.169.254), as AWS's SDKs do; off EC2 they fail"},
		{name: "no credentials, and the metadata service off", yaml: claude, env: map[string]string{"AWS_EC2_METADATA_DISABLED": "true"},
			says: "or a container's credentials, and the instance metadata service is off ($AWS_EC2_METADATA_DISABLED): this deployment is left out of routing"},
		{name: "a profile", yaml: claude + "      aws_profile_name: dev\n",
			says: "t.yaml:7:7: model_list[1].litellm_params.aws_profile_name: breakerd does not read AWS profiles (~/.aws): this deployment is left out of routing"},
		{name: "a role assumed with the key given, at the region's STS",
			yaml: claude + "      aws_access_key_id: AKID\n      aws_secret_access_key: s-123456\n      aws_role_name: arn:aws:iam::1:role/r\n      aws_session_name: s1\n      aws_region_name: eu-west-1\n",
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.eu-west-1.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "eu-west-1", Key: AWSKey{ID: "AKID", Secret: "s-123456"}, Role: &AWSRole{ARN: "arn:aws:iam::1:role/r", SessionName: "s1", STSEndpoint: "https://sts.eu-west-1.amazonaws.com"}}}}},
		{name: "a role assumed with a web identity's token, at an STS endpoint of its own",
			yaml: claude + "      aws_role_name: arn:aws:iam::1:role/r\n      aws_web_identity_token: os.environ/OIDC_TOKEN\n      aws_sts_endpoint: https://sts.vpce.example/\n",
			env:  map[string]string{"OIDC_TOKEN": "eyJ-web-identity", "AWS_ACCESS_KEY_ID": "AKIDNOTUSED", "AWS_SECRET_ACCESS_KEY": "x"},
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-west-2", Role: &AWSRole{ARN: "arn:aws:iam::1:role/r", SessionName: "breakerd", WebIdentityToken: "eyJ-web-identity", STSEndpoint: "https://sts.vpce.example"}}}}},
		{name: "EKS's IAM role for the service account, from the environment",
			yaml: claude, env: map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::1:role/irsa", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token", "AWS_REGION": "us-east-1"},
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.us-east-1.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-east-1", Role: &AWSRole{ARN: "arn:aws:iam::1:role/irsa", SessionName: "breakerd", WebIdentityTokenFile: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token", STSEndpoint: "https://sts.us-east-1.amazonaws.com"}}}}},
		{name: "a container's keys (EKS Pod Identity)",
			yaml: claude, env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"},
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-west-2", Container: &AWSContainer{URI: "http://169.254.170.23/v1/credentials", TokenFile: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}}}}},
		{name: "a role with nothing to assume it with", yaml: claude + "      aws_role_name: arn:aws:iam::1:role/r\n",
			says: "t.yaml:7:7: model_list[1].litellm_params.aws_role_name: assuming the role needs a key or a web identity's token"},
		{name: "Google's ID token, asked of the metadata server at each renewal", yaml: claude + "      aws_role_name: arn:aws:iam::1:role/r\n      aws_web_identity_token: oidc/google/https://example.com\n",
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-west-2", Role: &AWSRole{ARN: "arn:aws:iam::1:role/r", SessionName: "breakerd",
					WebIdentityURL: &TokenURL{URL: "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity?audience=https%3A%2F%2Fexample.com",
						Headers: map[string]Secret{"Metadata-Flavor": "Google"}}, STSEndpoint: "https://sts.us-west-2.amazonaws.com"}}}}},
		{name: "GitHub Actions' ID token outside GitHub Actions", yaml: claude + "      aws_role_name: arn:aws:iam::1:role/r\n      aws_web_identity_token: oidc/github/sts.amazonaws.com\n",
			says: "aws_web_identity_token: oidc/github/sts.amazonaws.com needs $ACTIONS_ID_TOKEN_REQUEST_URL and $ACTIONS_ID_TOKEN_REQUEST_TOKEN, which GitHub Actions sets for a job with permissions: id-token: write: this deployment is left out of routing"},
		{name: "an OIDC token from a source breakerd does not know", yaml: claude + "      aws_role_name: arn:aws:iam::1:role/r\n      aws_web_identity_token: oidc/vault/x\n",
			says: `model_list[1].litellm_params.aws_web_identity_token: breakerd does not fetch OIDC tokens from "oidc/vault/"`},
		{name: "an OIDC token in a file, read at each renewal",
			yaml: claude + "      aws_role_name: arn:aws:iam::1:role/r\n      aws_web_identity_token: oidc/file/var/run/token\n",
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-west-2", Role: &AWSRole{ARN: "arn:aws:iam::1:role/r", SessionName: "breakerd", WebIdentityTokenFile: "var/run/token", STSEndpoint: "https://sts.us-west-2.amazonaws.com"}}}}},
		{name: "CircleCI's OIDC token", env: map[string]string{"CIRCLE_OIDC_TOKEN": "eyJ-circle"},
			yaml: claude + "      aws_role_name: arn:aws:iam::1:role/r\n      aws_web_identity_token: oidc/circleci/\n",
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", AWSAuth: AWSAuth{Region: "us-west-2", Role: &AWSRole{ARN: "arn:aws:iam::1:role/r", SessionName: "breakerd", WebIdentityToken: "eyJ-circle", STSEndpoint: "https://sts.us-west-2.amazonaws.com"}}}}},
		{name: "an OIDC token in a variable that is not set", yaml: claude + "      aws_role_name: arn:aws:iam::1:role/r\n      aws_web_identity_token: oidc/env/MY_OIDC\n",
			says: "aws_web_identity_token: environment variable MY_OIDC, which oidc/env/MY_OIDC reads, is not set: this deployment is left out of routing"},
		{name: "an unset variable", yaml: claude + "      aws_access_key_id: AKID\n      aws_secret_access_key: os.environ/NOPE\n",
			says: "t.yaml:8:7: model_list[1].litellm_params.aws_secret_access_key: environment variable NOPE is not set: this deployment is left out of routing"},
		{name: "a wildcard", yaml: "      model: bedrock/*\n      api_key: k-123456\n",
			says: "a Bedrock model is called through a deployment of its own"},
		{name: "a guardrail", yaml: claude + "      api_key: k-123456\n      guardrailConfig: {guardrailIdentifier: gr-abc, guardrailVersion: DRAFT, trace: ENABLED}\n",
			want: Deployment{Model: "anthropic.claude-3-5-sonnet-20240620-v1:0", APIKey: "k-123456", APIBase: "https://bedrock-runtime.us-west-2.amazonaws.com",
				Bedrock: &Bedrock{ModelID: "anthropic.claude-3-5-sonnet-20240620-v1:0", Guardrail: &Guardrail{ID: "gr-abc", Version: "DRAFT", Trace: "enabled"},
					AWSAuth: AWSAuth{Region: "us-west-2"}}}},
		{name: "a guardrail without its version", yaml: claude + "      api_key: k-123456\n      guardrailConfig: {guardrailIdentifier: gr-abc}\n", err: true,
			says: "t.yaml:8:7: model_list[1].litellm_params.guardrailConfig: needs guardrailIdentifier and guardrailVersion (a number, or DRAFT)"},
		{name: "half a key", yaml: claude + "      aws_access_key_id: AKID\n", err: true,
			says: "t.yaml:7:7: model_list[1].litellm_params.aws_access_key_id: an AWS access key needs both aws_access_key_id and aws_secret_access_key (or $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY): aws_secret_access_key is missing"},
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
			if tc.want.Bedrock == nil {
				if len(cfg.Deployments) != 1 {
					t.Fatalf("%d deployments, want c left out", len(cfg.Deployments))
				}
				return
			}
			d := cfg.Deployments[1]
			w := tc.want
			if d.Model != w.Model || d.APIKey != w.APIKey || d.APIBase != w.APIBase || d.Dialect != DialectAnthropic || d.Embeddings != w.Embeddings || !reflect.DeepEqual(d.Bedrock, w.Bedrock) {
				t.Fatalf("deployment %s key %q at %s, %+v\nwant %s key %q at %s, %+v", d.Model, d.APIKey.Value(), d.APIBase, d.Bedrock, w.Model, w.APIKey.Value(), w.APIBase, w.Bedrock)
			}
			for _, s := range d.Secrets() {
				if s != "" && strings.Contains(warnings, s.Value()) {
					t.Fatalf("a warning shows the secret %q", s.Value())
				}
			}
		})
	}
}

// A Bedrock key elsewhere does nothing, and says so.
func TestAWSKeysOutsideBedrockWarn(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, aws_region_name: us-east-1, model_id: x}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	warningsStartWith(t, cfg.Warnings, []string{
		`t.yaml:3:44: model_list[0].litellm_params.aws_region_name: is for Amazon Bedrock's and SageMaker's deployments (bedrock/<model>); ignored for provider "openai"`,
		`t.yaml:3:72: model_list[0].litellm_params.model_id: is for Amazon Bedrock's and SageMaker's deployments (bedrock/<model>); ignored for provider "openai"`,
	})
}

// SageMaker endpoints whose containers speak OpenAI's chat API
// (sagemaker_chat/<endpoint>): called in their region, signed as
// Bedrock's calls are, with no API key.
func TestSageMaker(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: s\n    litellm_params:\n"
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       *SageMaker // nil: left out, saying says
		base, says string
	}{
		{name: "a key given, in its region", yaml: "      model: sagemaker_chat/my-llama\n      aws_access_key_id: AKID\n      aws_secret_access_key: s-123456\n      aws_region_name: eu-west-1\n",
			want: &SageMaker{Endpoint: "my-llama", AWSAuth: AWSAuth{Region: "eu-west-1", Key: AWSKey{ID: "AKID", Secret: "s-123456"}}},
			base: "https://runtime.sagemaker.eu-west-1.amazonaws.com"},
		{name: "an API key is no SageMaker key", yaml: "      model: sagemaker_chat/my-llama\n      api_key: k-123456\n",
			env:  map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"},
			want: &SageMaker{Endpoint: "my-llama", AWSAuth: AWSAuth{Region: "us-west-2", Key: AWSKey{ID: "AKIDENV", Secret: "env-secret"}}},
			base: "https://runtime.sagemaker.us-west-2.amazonaws.com", says: "model_list[1].litellm_params.api_key: SageMaker takes no API key"},
		{name: "no credentials", yaml: "      model: sagemaker_chat/my-llama\n", env: map[string]string{"AWS_BEARER_TOKEN_BEDROCK": "not-for-sagemaker", "AWS_EC2_METADATA_DISABLED": "TRUE"},
			says: "SageMaker gets no credentials from the config or the environment: aws_access_key_id is not set, nor aws_role_name, nor $AWS_ACCESS_KEY_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, tc.says) {
				t.Fatalf("warnings:\n%s\nwant one saying %q", w, tc.says)
			}
			if tc.want == nil {
				if len(cfg.Deployments) != 1 {
					t.Fatalf("%d deployments, want s left out", len(cfg.Deployments))
				}
				return
			}
			d := cfg.Deployments[1]
			if d.APIBase != tc.base || d.APIKey != "" || d.Dialect != DialectOpenAI || !reflect.DeepEqual(d.SageMaker, tc.want) {
				t.Fatalf("deployment at %s key %q, %+v; want %s, %+v", d.APIBase, d.APIKey.Value(), d.SageMaker, tc.base, tc.want)
			}
		})
	}
}

// Claude on Bedrock has Anthropic's list price, so that least-cost routing
// weighs it without configured prices.
func TestClaudeOnBedrockIsPriced(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: c\n    litellm_params: {model: bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0, api_key: k-123456}\n"+
		"  - model_name: c\n    litellm_params: {model: anthropic/claude-3-5-haiku-20241022}\n"), env(map[string]string{"ANTHROPIC_API_KEY": "sk-ant-123456"}))
	if err != nil {
		t.Fatal(err)
	}
	b, a := cfg.Deployments[0], cfg.Deployments[1]
	if !b.Priced || b.InputCostPerToken != a.InputCostPerToken || b.OutputCostPerToken != a.OutputCostPerToken || b.InputCostPerToken == 0 {
		t.Fatalf("bedrock %v %v %v, anthropic %v %v", b.Priced, b.InputCostPerToken, b.OutputCostPerToken, a.InputCostPerToken, a.OutputCostPerToken)
	}
}

// A Claude model Bedrock serves only through an inference profile, named
// by its model ID, loads with a warning that names the profile to write
// for its region; a profile's ID, or an older model, none.
func TestBedrockProfileOnlyClaude(t *testing.T) {
	for _, tc := range []struct {
		model, region, want string
	}{
		{"bedrock/anthropic.claude-sonnet-4-6", "eu-central-1", `model_list[0].litellm_params.model: Bedrock serves anthropic.claude-sonnet-4-6 only through an inference profile ` +
			`and refuses it by its model ID ("with on-demand throughput isn't supported"): write bedrock/eu.anthropic.claude-sonnet-4-6`},
		{"bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0", "us-east-1", "write bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0"},
		{"bedrock/us.anthropic.claude-sonnet-4-6", "us-east-1", ""},
		{"bedrock/anthropic.claude-3-haiku-20240307-v1:0", "us-east-1", ""},
	} {
		t.Run(tc.model, func(t *testing.T) {
			cfg := parseExpecting(t, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: "+tc.model+", aws_region_name: "+tc.region+
				", aws_access_key_id: AKIAEXAMPLE, aws_secret_access_key: secret-0123456789}\n"), env(nil), "")
			got := strings.Join(cfg.Warnings, "\n")
			if tc.want == "" && strings.Contains(got, "inference profile") || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("warnings:\n%s\nwant %q", got, tc.want)
			}
		})
	}
}
