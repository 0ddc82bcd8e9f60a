package config

import (
	"maps"
	"slices"
	"strings"
)

// Dialect is the wire API a provider speaks. breakerd's providers are
// written per dialect, not per provider: every provider that speaks the
// OpenAI API at a known address works through the same code.
type Dialect string

const (
	// DialectOpenAI is OpenAI's chat completions and embeddings, with the
	// key as a bearer token.
	DialectOpenAI Dialect = "openai"
	// DialectAzure is Azure OpenAI: the deployment in the path, an
	// api-version query parameter, the key in an api-key header.
	DialectAzure Dialect = "azure"
	// DialectAnthropic is Anthropic's Messages API, the key in x-api-key.
	DialectAnthropic Dialect = "anthropic"
)

// ProviderInfo is what breakerd knows of one of LiteLLM's provider
// prefixes (the "groq" of model: groq/llama-3.1-8b-instant).
type ProviderInfo struct {
	Name    string
	Dialect Dialect // "" for a provider breakerd cannot call yet
	// BaseURL is the default api_base; "" when the config must give one.
	BaseURL string
	// BaseEnv and KeyEnv are the environment variables LiteLLM reads the
	// api_base and api_key from when the config sets none; MoreBaseEnvs
	// and MoreKeyEnvs the others it reads, in order, when that one is not
	// set (Together AI's TOGETHERAI_API_KEY after TOGETHER_API_KEY).
	BaseEnv, KeyEnv           string
	MoreBaseEnvs, MoreKeyEnvs []string
	// AccountEnv is the variable that names the account a BaseURL with
	// {account} in it is for (Cloudflare's account id).
	AccountEnv string
	// PathSuffix is appended to an api_base that lacks it: Ollama's
	// OpenAI-compatible API lives under /v1, while LiteLLM configs give
	// its root (http://localhost:11434).
	PathSuffix string
	// Embeddings is whether the provider serves /embeddings.
	Embeddings bool
	// ReportsCost is whether the provider reports each call's cost in its
	// answers' usage (OpenRouter's usage.cost): budgets are charged that,
	// whatever breakerd's prices say.
	ReportsCost bool
	// VendorModels: the provider names models vendor/model (OpenRouter's
	// openai/gpt-4o, anthropic/claude-sonnet-4.5) and passes their
	// vendors' list prices through, so the built-in prices and windows of
	// the vendor's model are the deployment's (listedModel).
	VendorModels bool
	// ParamRenames are request parameters the provider knows by other
	// names (OpenAI's max_completion_tokens as max_tokens).
	ParamRenames map[string]string
	// Refuses are the chat parameters the provider's OpenAI-compatible
	// API answers with a 400 rather than ignores, and why it cannot take
	// them: one with no reason changes nothing about an answer (a cache
	// routing hint) and is left out of every request; another is left out
	// at its default value (a penalty of 0) and is otherwise a parameter
	// the deployment cannot take (drop_params drops it, else the
	// deployment is passed over).
	Refuses map[string]string
	// ModelParams are ParamRenames and Refuses of the provider's models
	// whose names start with a rule's prefix (xAI's reasoning Grok models'
	// penalties, OpenAI's reasoning models' max_completion_tokens), on top
	// of the provider's.
	ModelParams []ModelParams
	// RefusesInMessages are fields of a chat message the provider's API
	// refuses (Mistral's 422 "extra_forbidden", Groq's and Cerebras's 400
	// "property ... is unsupported"): another model's answer
	// carries them (reasoning_content, LiteLLM's thinking_blocks) and
	// clients send its messages back as they got them. They are left out
	// of the messages sent to it.
	RefusesInMessages []string
	// KeyHeaders are headers the key is sent in as well as Authorization
	// (Sarvam's api-subscription-key), unless the config sets them.
	KeyHeaders []string
	// FlattenContent are the roles whose messages' content the provider
	// takes only as a string: a list of text parts is sent joined by
	// newlines (GLM drops a tool result given as a list).
	FlattenContent []string
	// RerankURL is where the provider's rerank API is when it is not at
	// the api_base's /rerank (Cohere's, which its v2 API serves).
	RerankURL string
	// Markers are LiteLLM's routing markers that may lead the model
	// (azure/o_series/<deployment>): LiteLLM reads them to pick its
	// request handling, and the name after one is the model. A marker
	// with a note gets a warning saying what breakerd does differently.
	Markers []Marker
	// CompatSuffix is how the provider's OpenAI-compatible API's address
	// ends, where LiteLLM calls the provider's native API instead: a
	// configured api_base without it is likely the native one, and gets
	// a warning.
	CompatSuffix string
	// LoadsModels marks a model server that loads a model's weights at
	// its first request (Ollama, LM Studio, llamafile, ...): a minute can
	// pass before that stream's first chunk, so its streams' default
	// wait for it is LocalStreamTimeout (Deployment.FirstChunkTimeout).
	LoadsModels bool
	// Vertex marks Google's Vertex AI: its api_base is built from
	// vertex_project and vertex_location, and its calls carry an OAuth
	// token that a service account's key (vertex_credentials) signs for.
	Vertex bool
	// Bedrock marks Amazon Bedrock: Claude there takes Anthropic's
	// Messages at the model's InvokeModel API, other models the Converse
	// API, and calls are signed with an AWS key (or carry a Bedrock API
	// key).
	Bedrock bool
	// SageMaker marks a SageMaker endpoint that serves OpenAI's chat API
	// at its invocations, with calls signed with an AWS key.
	SageMaker bool
	// Watsonx marks IBM watsonx.ai: its chat API under /ml/v1, the model
	// and its project in the body, and IBM Cloud IAM tokens.
	Watsonx bool
	// Entra marks Azure's providers, whose calls may carry Microsoft
	// Entra ID tokens in place of a key (azure_ad_token, tenant_id, ...).
	Entra bool
	// ModelRules call the models whose names start with a rule's Prefix
	// through another API, the first that matches.
	ModelRules []ModelRule
	// HostRules fit a deployment to the host its api_base names, the
	// first that matches; with any, a query in api_base (api-version) is
	// kept, and api_version is sent as api-version.
	HostRules []HostRule
	// Unsupported says why breakerd cannot call the provider (its own
	// request signing or token flow); such a deployment is left out of
	// routing with a warning.
	Unsupported string
}

// ModelRule is another API a provider serves some of its models through:
// Dialect's, with the key in KeyHeader when set.
type ModelRule struct {
	Prefix    string
	Dialect   Dialect
	KeyHeader string
}

// paramsOf returns the parameters the provider's model knows by other
// names and those it refuses: the provider's ParamRenames and Refuses,
// with its ModelParams' for the model (their Prefixes and Models unset);
// nil maps when none.
func (p ProviderInfo) paramsOf(model string) ModelParams {
	out := ModelParams{Renames: p.ParamRenames, Refuses: p.Refuses}
	with := func(m, more map[string]string) map[string]string {
		if len(more) == 0 {
			return m
		}
		out := maps.Clone(m)
		if out == nil {
			out = map[string]string{}
		}
		maps.Copy(out, more)
		return out
	}
	for _, r := range p.ModelParams {
		if slices.Contains(r.Models, model) || slices.ContainsFunc(r.Prefixes, func(pre string) bool { return strings.HasPrefix(model, pre) }) {
			out.Renames, out.Refuses = with(out.Renames, r.Renames), with(out.Refuses, r.Refuses)
			out.RefusesReasoning = with(out.RefusesReasoning, r.RefusesReasoning)
			out.ReasonsByDefault = out.ReasonsByDefault || r.ReasonsByDefault
			out.Reasons = out.Reasons || r.Reasons
			out.ToolsWithoutReasoning = out.ToolsWithoutReasoning || r.ToolsWithoutReasoning
			out.ResponsesOnly = out.ResponsesOnly || r.ResponsesOnly
			out.ThoughtSignatures = out.ThoughtSignatures || r.ThoughtSignatures
			out.ReasoningContent = out.ReasoningContent || r.ReasoningContent
			out.CustomTools = out.CustomTools || r.CustomTools
			if len(r.SchemaKeywords) > 0 {
				out.SchemaKeywords = r.SchemaKeywords
			}
			if len(r.Efforts) > 0 {
				out.Efforts = r.Efforts
			}
			if len(r.Verbosities) > 0 {
				out.Verbosities = r.Verbosities
			}
		}
	}
	return out
}

// ModelParams are the renames and refusals of the models whose names
// start with one of Prefixes, or are one of Models (ProviderInfo.
// ParamRenames' and Refuses' forms).
type ModelParams struct {
	Prefixes, Models []string
	Renames          map[string]string
	Refuses          map[string]string
	// RefusesReasoning are refused while the model reasons: when a
	// request's reasoning_effort is other than "none", or, with
	// ReasonsByDefault, when it sets none. GPT-5.1 and later take
	// sampling only without reasoning.
	RefusesReasoning map[string]string
	ReasonsByDefault bool
	// SchemaKeywords, when set, are the only JSON Schema keywords the
	// models take in a tool's parameters or a response format's schema
	// (Gemini's OpenAPI subset): the others are fitted or left out.
	SchemaKeywords []string
	// Reasons: the models take reasoning_effort, so a translated
	// request's (a Messages client's thinking) is sent to them.
	Reasons bool
	// Efforts, when set, are the reasoning_effort values the models take
	// (a later match's replace an earlier's): another is sent as the
	// nearest of them (Efforts' order), not refused with a 400.
	Efforts []string
	// Verbosities, when set, are the verbosity values the models take:
	// another is sent as the first of them.
	Verbosities []string
	// ToolsWithoutReasoning: the models take function tools in chat
	// completions only while they do not reason (reasoning_effort none;
	// their Responses API takes both).
	ToolsWithoutReasoning bool
	// ReasoningContent: the models refuse an assistant message without
	// reasoning_content (DeepSeek's and Kimi's in thinking mode, which a
	// tool loop must pass back): one without, another model's answer or
	// one a client rebuilt, gets an empty one; a Messages or Responses
	// client's thinking, sent back, goes as it.
	ReasoningContent bool
	// ThoughtSignatures: the models refuse an assistant's tool calls
	// without their thought signature (Gemini 3, at its OpenAI-compatible
	// API: extra_content.google.thought_signature on a turn's first
	// call); one without gets Google's documented stand-in.
	ThoughtSignatures bool
	// CustomTools: the models take OpenAI's custom tools (free-form
	// input, GPT-5's) in chat; at others a chat client's custom tools go
	// as functions of one string, and their calls come back as custom
	// calls (dialect.CustomAsFunctions).
	CustomTools bool
	// ResponsesOnly: the models serve the Responses API only ("This model
	// is only supported in v1/responses and not in v1/chat/completions"):
	// a chat request goes through it, translated. LiteLLM's responses/
	// marker sets it for any model.
	ResponsesOnly bool
}

// OpenAIModelParams returns what an OpenAI model (by its name) knows by
// other names and refuses (openAIModels): mockllm answers its chat as
// OpenAI does.
func OpenAIModelParams(model string) ModelParams {
	return ProviderInfo{ModelParams: openAIModels}.paramsOf(model)
}

// openAIModels are what OpenAI's own models refuse: its reasoning models
// max_tokens ("Use 'max_completion_tokens' instead", which every OpenAI
// model takes), its other models reasoning_effort, and all of them
// Anthropic's thinking ("Unrecognized request argument supplied"). By
// their names: an OpenAI-compatible server under the openai provider
// (DeepSeek's and GLM's take thinking) keeps what it is sent.
var openAIModels = []ModelParams{
	{Prefixes: []string{"o1", "o3", "o4-mini", "gpt-5", "gpt-6"}, Renames: map[string]string{"max_tokens": "max_completion_tokens"},
		Refuses: map[string]string{"thinking": openAIThinking}, Reasons: true},
	{Prefixes: []string{"gpt-5", "gpt-6"}, CustomTools: true},
	// The reasoning models that always reason take sampling only at its
	// default ("Only the default (1) value is supported").
	{Prefixes: []string{"o1", "o3", "o4-mini", "gpt-5-mini", "gpt-5-nano", "gpt-5-pro", "gpt-5-codex", "gpt-5-20",
		"gpt-5.1-codex", "gpt-5.2-codex", "gpt-5.3-codex", "gpt-5.2-pro", "gpt-5.4-pro", "gpt-5.5-pro"}, Models: []string{"gpt-5"},
		Refuses: map[string]string{
			"temperature":       "OpenAI's reasoning models take temperature only at 1",
			"top_p":             "OpenAI's reasoning models take top_p only at 1",
			"presence_penalty":  "OpenAI's reasoning models take no presence penalty",
			"frequency_penalty": "OpenAI's reasoning models take no frequency penalty",
		}},
	// GPT-5.1 and later take sampling and log probabilities only with
	// reasoning_effort "none" ("Unsupported parameter: 'temperature' is
	// not supported with this model" otherwise), their default up to
	// GPT-5.4; later ones reason unless told not to.
	{Prefixes: []string{"gpt-5.1", "gpt-5.2", "gpt-5.4"}, RefusesReasoning: openAIReasoningRefuses},
	{Prefixes: []string{"gpt-5.5", "gpt-5.6", "gpt-6"}, RefusesReasoning: openAIReasoningRefuses, ReasonsByDefault: true},
	// "Function tools with reasoning_effort are not supported for gpt-5.4
	// in /v1/chat/completions. Please use /v1/responses instead."
	{Prefixes: []string{"gpt-5.2", "gpt-5.4", "gpt-5.5", "gpt-5.6"}, ToolsWithoutReasoning: true},
	{Prefixes: []string{"gpt-4o", "gpt-4.1", "gpt-4-", "gpt-3.5", "chatgpt-4o", "gpt-5-chat"}, Refuses: map[string]string{
		"reasoning_effort": "OpenAI's models that do not reason take no reasoning_effort",
		"thinking":         openAIThinking}},
	// The efforts each takes ("Unsupported value: 'reasoning_effort' does
	// not support 'minimal' with this model. Supported values are:
	// 'none', 'low', 'medium', and 'high'"), a later match's first: a
	// fallback's request written for another model (GPT-5's minimal at
	// GPT-5.1, GPT-5.2's xhigh or none at o3) is sent the nearest.
	{Prefixes: []string{"o1", "o3", "o4-mini"}, Efforts: []string{"low", "medium", "high"}},
	{Prefixes: []string{"gpt-5-"}, Models: []string{"gpt-5"}, Efforts: []string{"minimal", "low", "medium", "high"}},
	{Prefixes: []string{"gpt-5-pro"}, Efforts: []string{"high"}},
	{Prefixes: []string{"gpt-5.1"}, Efforts: []string{"none", "low", "medium", "high"}},
	{Prefixes: []string{"gpt-5.2", "gpt-5.4"}, Efforts: []string{"none", "low", "medium", "high", "xhigh"}},
	{Prefixes: []string{"gpt-5.2-pro", "gpt-5.4-pro"}, Efforts: []string{"medium", "high", "xhigh"}},
	{Prefixes: []string{"gpt-5.1-chat", "gpt-5.2-chat", "gpt-5.3-chat"}, Efforts: []string{"medium"}},
	// The codex models: "Unsupported value: 'xhigh' is not supported with
	// the 'gpt-5.1-codex' model. Supported values are: 'low', 'medium',
	// and 'high'"; xhigh from GPT-5.1 Codex Max.
	// And verbosity medium only ("Unsupported value: 'low' is not
	// supported with the 'gpt-5.1-codex' model. Supported values are:
	// 'medium'").
	{Prefixes: []string{"gpt-5-codex", "gpt-5.1-codex"}, Efforts: []string{"low", "medium", "high"}},
	{Prefixes: []string{"gpt-5-codex", "gpt-5.1-codex", "gpt-5.2-codex", "gpt-5.3-codex"}, Verbosities: []string{"medium"}},
	{Prefixes: []string{"gpt-5.1-codex-max", "gpt-5.2-codex", "gpt-5.3-codex"}, Efforts: []string{"low", "medium", "high", "xhigh"}},
	// The models of the Responses API alone: a chat request goes through
	// it, without the chat parameters it lacks.
	{Prefixes: []string{"o1-pro", "o3-pro", "o3-deep-research", "o4-mini-deep-research", "gpt-5-pro", "gpt-5.2-pro", "gpt-5.4-pro", "gpt-5.5-pro",
		"gpt-5-codex", "gpt-5.1-codex", "gpt-5.2-codex", "gpt-5.3-codex", "codex-mini", "computer-use-preview"},
		ResponsesOnly: true, Refuses: chatOnlyParams},
}

// chatOnlyParams are the chat completions parameters the Responses API
// lacks ("Unknown parameter"): a model of that API alone refuses them.
var chatOnlyParams = map[string]string{
	"stop":               responsesLack,
	"n":                  responsesLack,
	"frequency_penalty":  responsesLack,
	"presence_penalty":   responsesLack,
	"logit_bias":         responsesLack,
	"seed":               responsesLack,
	"logprobs":           responsesLack,
	"audio":              responsesLack,
	"prediction":         responsesLack,
	"web_search_options": responsesLack,
	"functions":          responsesLack,
	"function_call":      responsesLack,
}

// responsesLack is why a model of the Responses API alone refuses a chat
// parameter.
const responsesLack = "this model serves the Responses API only, which has no such parameter"

// effortScale orders reasoning_effort's values, least reasoning first.
var effortScale = []string{"none", "minimal", "low", "medium", "high", "xhigh", "max"}

// NearestEffort returns the one of efforts (values a model takes)
// nearest to effort on reasoning_effort's scale, the lesser of two as
// near; effort itself when it is one of them, or is not on the scale, or
// efforts is empty.
func NearestEffort(effort string, efforts []string) string {
	at := slices.Index(effortScale, effort)
	if at < 0 || len(efforts) == 0 || slices.Contains(efforts, effort) {
		return effort
	}
	best, dist := effort, len(effortScale)
	for _, e := range efforts {
		i := slices.Index(effortScale, e)
		d := max(i-at, at-i)
		if i >= 0 && (d < dist || d == dist && i < slices.Index(effortScale, best)) {
			best, dist = e, d
		}
	}
	return best
}

// openAIReasoningRefuses are what GPT-5.1 and later refuse while they
// reason.
var openAIReasoningRefuses = map[string]string{
	"temperature":  "GPT-5.1 and later take temperature only with reasoning_effort none",
	"top_p":        "GPT-5.1 and later take top_p only with reasoning_effort none",
	"logprobs":     "GPT-5.1 and later give log probabilities only with reasoning_effort none",
	"top_logprobs": "GPT-5.1 and later give log probabilities only with reasoning_effort none",
}

// openAIThinking is why OpenAI's models refuse thinking.
const openAIThinking = "OpenAI's API has no thinking parameter (Anthropic's; OpenAI's reasoning models take reasoning_effort)"

// HostRule is how a provider is called at the hosts whose names end in
// Suffix: its key in KeyHeader (not as a bearer token) when set, and its
// API under Path.
type HostRule struct {
	Suffix, KeyHeader, Path string
}

// Marker is one of LiteLLM's routing markers in a model name.
type Marker struct {
	Prefix string
	Note   string // "": breakerd's handling is the same
	// Responses: the deployment's chat requests go through the Responses
	// API (ModelParams.ResponsesOnly).
	Responses bool
}

// maxTokens is the rename of a provider that knows OpenAI's
// max_completion_tokens by its older name.
// kimiThinking are the prefixes of Moonshot's thinking Kimi models,
// named after prefix (a host's namespace): with thinking on (their
// default), they refuse an assistant tool call message without
// reasoning_content.
func kimiThinking(prefix string) []string {
	return []string{prefix + "kimi-k2-thinking", prefix + "kimi-k2.5", prefix + "kimi-k2.6"}
}

// answerOnlyFields are the fields of an assistant message that only
// answers carry (a reasoning model's text, Claude's thinking blocks, as
// LiteLLM returns them), which strict APIs refuse when sent back.
var answerOnlyFields = []string{"reasoning_content", "thinking_blocks"}

// geminiRefuses are what Gemini's OpenAI-compatible API refuses ("Unknown
// name ...: Cannot find field"), where OpenAI's ignores or takes them.
var geminiRefuses = map[string]string{
	"frequency_penalty":      "Gemini's OpenAI-compatible API has no frequency penalty",
	"presence_penalty":       "Gemini's OpenAI-compatible API has no presence penalty",
	"prompt_cache_key":       "",
	"prompt_cache_retention": "",
	// Anthropic's, which LiteLLM's clients send; Gemini's is reasoning_effort.
	"thinking": "Gemini's OpenAI-compatible API has no thinking parameter (Anthropic's; it takes reasoning_effort)",
}

var maxTokens = map[string]string{"max_completion_tokens": "max_tokens"}

// geminiModels are what Gemini's models take: of JSON Schema, in
// function declarations and response schemas, its Schema object, a
// subset of OpenAPI 3.0's ("Invalid JSON payload received. Unknown name
// \"$schema\"", or additionalProperties, const, propertyNames, ..., which
// MCP servers' and Pydantic's schemas carry, is a 400 otherwise); and
// from Gemini 2.5, which thinks, a reasoning_effort.
var geminiModels = []ModelParams{{Prefixes: []string{"gemini"}, SchemaKeywords: []string{"type", "format", "title", "description",
	"nullable", "enum", "maxItems", "minItems", "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
	"pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"}},
	{Prefixes: []string{"gemini-2.5", "gemini-3"}, Reasons: true},
	// "Function call is missing a thought_signature in functionCall
	// parts": a tool call Gemini 3 did not make (a fallback's history, a
	// client that rebuilt it) needs one.
	{Prefixes: []string{"gemini-3"}, ThoughtSignatures: true}}

// providerTable holds LiteLLM's provider prefixes that breakerd knows,
// with the facts from each provider's documentation (and LiteLLM's
// provider pages for the environment variables).
var providerTable = []ProviderInfo{
	{Name: "openai", Dialect: DialectOpenAI, BaseURL: "https://api.openai.com/v1", BaseEnv: "OPENAI_BASE_URL", KeyEnv: "OPENAI_API_KEY", Embeddings: true,
		ModelParams: openAIModels, Markers: []Marker{{Prefix: "responses/", Responses: true}}},
	{Name: "azure", Dialect: DialectAzure, BaseEnv: "AZURE_API_BASE", KeyEnv: "AZURE_API_KEY", MoreKeyEnvs: []string{"AZURE_OPENAI_API_KEY"}, Embeddings: true, Entra: true,
		// Claude on Azure AI Foundry: Anthropic's API at its api_base
		// (https://<resource>.services.ai.azure.com/anthropic), as LiteLLM calls it.
		ModelRules:  []ModelRule{{Prefix: "claude", Dialect: DialectAnthropic, KeyHeader: "api-key"}},
		ModelParams: openAIModels,
		Markers: []Marker{{Prefix: "o_series/"}, {Prefix: "gpt5_series/"},
			{Prefix: "responses/", Responses: true}}},
	{Name: "anthropic", Dialect: DialectAnthropic, BaseURL: "https://api.anthropic.com", BaseEnv: "ANTHROPIC_API_BASE", MoreBaseEnvs: []string{"ANTHROPIC_BASE_URL"},
		KeyEnv: "ANTHROPIC_API_KEY"},
	{Name: "gemini", Dialect: DialectOpenAI, BaseURL: "https://generativelanguage.googleapis.com/v1beta/openai", BaseEnv: "GEMINI_API_BASE", KeyEnv: "GEMINI_API_KEY",
		MoreKeyEnvs: []string{"GOOGLE_API_KEY"}, Embeddings: true, CompatSuffix: "/openai", Refuses: geminiRefuses, RefusesInMessages: answerOnlyFields, ModelParams: geminiModels},
	{Name: "ollama", Dialect: DialectOpenAI, LoadsModels: true, BaseURL: "http://localhost:11434", BaseEnv: "OLLAMA_API_BASE", KeyEnv: "OLLAMA_API_KEY", PathSuffix: "/v1", Embeddings: true},
	{Name: "ollama_chat", Dialect: DialectOpenAI, LoadsModels: true, BaseURL: "http://localhost:11434", BaseEnv: "OLLAMA_API_BASE", KeyEnv: "OLLAMA_API_KEY", PathSuffix: "/v1", Embeddings: true},
	{Name: "groq", Dialect: DialectOpenAI, BaseURL: "https://api.groq.com/openai/v1", BaseEnv: "GROQ_API_BASE", KeyEnv: "GROQ_API_KEY",
		RefusesInMessages: answerOnlyFields},
	{Name: "openrouter", Dialect: DialectOpenAI, BaseURL: "https://openrouter.ai/api/v1", BaseEnv: "OPENROUTER_API_BASE", KeyEnv: "OPENROUTER_API_KEY", MoreKeyEnvs: []string{"OR_API_KEY"},
		ReportsCost: true, VendorModels: true, ModelParams: []ModelParams{{Prefixes: kimiThinking("moonshotai/"), ReasoningContent: true}}},
	{Name: "mistral", Dialect: DialectOpenAI, BaseURL: "https://api.mistral.ai/v1", BaseEnv: "MISTRAL_API_BASE", KeyEnv: "MISTRAL_API_KEY", Embeddings: true,
		ParamRenames: maxTokens, RefusesInMessages: answerOnlyFields},
	{Name: "cohere", Dialect: DialectOpenAI, BaseURL: "https://api.cohere.ai/compatibility/v1", BaseEnv: "COHERE_API_BASE", KeyEnv: "COHERE_API_KEY", MoreKeyEnvs: []string{"CO_API_KEY"}, Embeddings: true,
		RerankURL: "https://api.cohere.ai/v2/rerank"},
	{Name: "cohere_chat", Dialect: DialectOpenAI, BaseURL: "https://api.cohere.ai/compatibility/v1", BaseEnv: "COHERE_API_BASE", KeyEnv: "COHERE_API_KEY", MoreKeyEnvs: []string{"CO_API_KEY"}, Embeddings: true},
	{Name: "deepseek", Dialect: DialectOpenAI, BaseURL: "https://api.deepseek.com/v1", BaseEnv: "DEEPSEEK_API_BASE", KeyEnv: "DEEPSEEK_API_KEY",
		// Its thinking models: "Missing `reasoning_content` field in the
		// assistant message at message index 2".
		ModelParams: []ModelParams{{Prefixes: []string{"deepseek-reasoner", "deepseek-v4"}, ReasoningContent: true}}},
	{Name: "xai", Dialect: DialectOpenAI, BaseURL: "https://api.x.ai/v1", BaseEnv: "XAI_API_BASE", KeyEnv: "XAI_API_KEY",
		ModelParams: []ModelParams{{Prefixes: []string{"grok-3-mini", "grok-4"}, Refuses: map[string]string{
			// "Model grok-4.5 does not support parameter presencePenalty", even at 0.
			"presence_penalty":  "xAI's reasoning Grok models (grok-3-mini, grok-4 and later) take no presence penalty",
			"frequency_penalty": "xAI's reasoning Grok models (grok-3-mini, grok-4 and later) take no frequency penalty",
		}},
			// grok-3-mini's reasoning_effort is low or high.
			{Prefixes: []string{"grok-3-mini"}, Reasons: true, Efforts: []string{"low", "high"}}}},
	{Name: "perplexity", Dialect: DialectOpenAI, BaseURL: "https://api.perplexity.ai", BaseEnv: "PERPLEXITY_API_BASE", KeyEnv: "PERPLEXITYAI_API_KEY",
		MoreKeyEnvs: []string{"PERPLEXITY_API_KEY"}},
	{Name: "huggingface", Dialect: DialectOpenAI, BaseURL: "https://router.huggingface.co/v1", BaseEnv: "HF_API_BASE", MoreBaseEnvs: []string{"HUGGINGFACE_API_BASE"},
		KeyEnv: "HF_TOKEN", MoreKeyEnvs: []string{"HUGGINGFACE_API_KEY"}},
	{Name: "together_ai", Dialect: DialectOpenAI, BaseURL: "https://api.together.xyz/v1", BaseEnv: "TOGETHER_AI_API_BASE", KeyEnv: "TOGETHER_API_KEY",
		MoreKeyEnvs: []string{"TOGETHER_AI_API_KEY", "TOGETHERAI_API_KEY", "TOGETHER_AI_TOKEN"}, Embeddings: true},
	{Name: "fireworks_ai", Dialect: DialectOpenAI, BaseURL: "https://api.fireworks.ai/inference/v1", BaseEnv: "FIREWORKS_API_BASE", KeyEnv: "FIREWORKS_API_KEY",
		MoreKeyEnvs: []string{"FIREWORKS_AI_API_KEY", "FIREWORKSAI_API_KEY", "FIREWORKS_AI_TOKEN"}, Embeddings: true},
	{Name: "cerebras", Dialect: DialectOpenAI, BaseURL: "https://api.cerebras.ai/v1", BaseEnv: "CEREBRAS_API_BASE", KeyEnv: "CEREBRAS_API_KEY",
		RefusesInMessages: answerOnlyFields},
	{Name: "deepinfra", Dialect: DialectOpenAI, BaseURL: "https://api.deepinfra.com/v1/openai", BaseEnv: "DEEPINFRA_API_BASE", KeyEnv: "DEEPINFRA_API_KEY", Embeddings: true},
	{Name: "nvidia_nim", Dialect: DialectOpenAI, BaseURL: "https://integrate.api.nvidia.com/v1", BaseEnv: "NVIDIA_NIM_API_BASE", KeyEnv: "NVIDIA_NIM_API_KEY", Embeddings: true},
	{Name: "hosted_vllm", Dialect: DialectOpenAI, BaseEnv: "HOSTED_VLLM_API_BASE", KeyEnv: "HOSTED_VLLM_API_KEY", Embeddings: true},
	{Name: "jina_ai", Dialect: DialectOpenAI, BaseURL: "https://api.jina.ai/v1", BaseEnv: "JINA_AI_API_BASE", KeyEnv: "JINA_AI_API_KEY", Embeddings: true},
	{Name: "infinity", Dialect: DialectOpenAI, BaseEnv: "INFINITY_API_BASE", KeyEnv: "INFINITY_API_KEY", Embeddings: true},
	{Name: "lm_studio", Dialect: DialectOpenAI, LoadsModels: true, BaseURL: "http://localhost:1234/v1", BaseEnv: "LM_STUDIO_API_BASE", KeyEnv: "LM_STUDIO_API_KEY", Embeddings: true},
	{Name: "openai_like", Dialect: DialectOpenAI, BaseEnv: "OPENAI_LIKE_API_BASE", KeyEnv: "OPENAI_LIKE_API_KEY", Embeddings: true},
	{Name: "custom_openai", Dialect: DialectOpenAI, Embeddings: true},
	{Name: "sambanova", Dialect: DialectOpenAI, BaseURL: "https://api.sambanova.ai/v1", BaseEnv: "SAMBANOVA_API_BASE", KeyEnv: "SAMBANOVA_API_KEY", Embeddings: true},
	{Name: "github", Dialect: DialectOpenAI, BaseURL: "https://models.inference.ai.azure.com", BaseEnv: "GITHUB_API_BASE", KeyEnv: "GITHUB_API_KEY"},
	{Name: "codestral", Dialect: DialectOpenAI, BaseURL: "https://codestral.mistral.ai/v1", BaseEnv: "CODESTRAL_API_BASE", KeyEnv: "CODESTRAL_API_KEY",
		ParamRenames: maxTokens, RefusesInMessages: answerOnlyFields},
	{Name: "volcengine", Dialect: DialectOpenAI, BaseURL: "https://ark.cn-beijing.volces.com/api/v3", BaseEnv: "VOLCENGINE_API_BASE", MoreBaseEnvs: []string{"ARK_API_BASE"},
		KeyEnv: "VOLCENGINE_API_KEY"},
	{Name: "ai21_chat", Dialect: DialectOpenAI, BaseURL: "https://api.ai21.com/studio/v1", BaseEnv: "AI21_API_BASE", KeyEnv: "AI21_API_KEY"},
	{Name: "ai21", Dialect: DialectOpenAI, BaseURL: "https://api.ai21.com/studio/v1", BaseEnv: "AI21_API_BASE", KeyEnv: "AI21_API_KEY"},
	{Name: "meta_llama", Dialect: DialectOpenAI, BaseURL: "https://api.llama.com/compat/v1", BaseEnv: "LLAMA_API_BASE", KeyEnv: "LLAMA_API_KEY"},
	{Name: "dashscope", Dialect: DialectOpenAI, BaseURL: "https://dashscope.aliyuncs.com/compatible-mode/v1", BaseEnv: "DASHSCOPE_API_BASE", KeyEnv: "DASHSCOPE_API_KEY", Embeddings: true},
	{Name: "moonshot", Dialect: DialectOpenAI, BaseURL: "https://api.moonshot.ai/v1", BaseEnv: "MOONSHOT_API_BASE", KeyEnv: "MOONSHOT_API_KEY",
		// Kimi's thinking models: "thinking is enabled but reasoning_content
		// is missing in assistant tool call message at index 2".
		ModelParams: []ModelParams{{Prefixes: kimiThinking(""), ReasoningContent: true}}},
	{Name: "nebius", Dialect: DialectOpenAI, BaseURL: "https://api.studio.nebius.ai/v1", BaseEnv: "NEBIUS_API_BASE", KeyEnv: "NEBIUS_API_KEY", Embeddings: true},
	{Name: "novita", Dialect: DialectOpenAI, BaseURL: "https://api.novita.ai/v3/openai", BaseEnv: "NOVITA_API_BASE", KeyEnv: "NOVITA_API_KEY"},
	{Name: "lambda_ai", Dialect: DialectOpenAI, BaseURL: "https://api.lambda.ai/v1", BaseEnv: "LAMBDA_API_BASE", KeyEnv: "LAMBDA_API_KEY"},
	{Name: "hyperbolic", Dialect: DialectOpenAI, BaseURL: "https://api.hyperbolic.xyz/v1", BaseEnv: "HYPERBOLIC_API_BASE", KeyEnv: "HYPERBOLIC_API_KEY"},
	{Name: "featherless_ai", Dialect: DialectOpenAI, BaseURL: "https://api.featherless.ai/v1", BaseEnv: "FEATHERLESS_AI_API_BASE", MoreBaseEnvs: []string{"FEATHERLESS_API_BASE"},
		KeyEnv: "FEATHERLESS_AI_API_KEY", MoreKeyEnvs: []string{"FEATHERLESS_API_KEY"}},
	{Name: "nscale", Dialect: DialectOpenAI, BaseURL: "https://inference.api.nscale.com/v1", BaseEnv: "NSCALE_API_BASE", KeyEnv: "NSCALE_API_KEY"},
	{Name: "wandb", Dialect: DialectOpenAI, BaseURL: "https://api.inference.wandb.ai/v1", BaseEnv: "WANDB_API_BASE", KeyEnv: "WANDB_API_KEY"},
	{Name: "zai", Dialect: DialectOpenAI, BaseURL: "https://api.z.ai/api/paas/v4", BaseEnv: "ZAI_API_BASE", KeyEnv: "ZAI_API_KEY",
		FlattenContent: []string{"tool", "assistant"}},
	// Named by LiteLLM's own example configs (china_domestic_free_sources.yaml),
	// with their api_base: both serve OpenAI's API. Zhipu is Z.AI's API in
	// mainland China, with GLM's same quirk.
	{Name: "siliconflow", Dialect: DialectOpenAI, BaseURL: "https://api.siliconflow.cn/v1", BaseEnv: "SILICONFLOW_API_BASE", KeyEnv: "SILICONFLOW_API_KEY", Embeddings: true},
	{Name: "zhipu", Dialect: DialectOpenAI, BaseURL: "https://open.bigmodel.cn/api/paas/v4", BaseEnv: "ZHIPU_API_BASE", KeyEnv: "ZHIPU_API_KEY", Embeddings: true,
		FlattenContent: []string{"tool", "assistant"}},
	// LiteLLM's JSON-configured OpenAI-like providers (openai_like/providers.json).
	{Name: "publicai", Dialect: DialectOpenAI, BaseURL: "https://api.publicai.co/v1", BaseEnv: "PUBLICAI_API_BASE", KeyEnv: "PUBLICAI_API_KEY",
		ParamRenames: maxTokens, FlattenContent: []string{"system", "user", "assistant", "tool"}},
	{Name: "helicone", Dialect: DialectOpenAI, BaseURL: "https://ai-gateway.helicone.ai", KeyEnv: "HELICONE_API_KEY"},
	{Name: "veniceai", Dialect: DialectOpenAI, BaseURL: "https://api.venice.ai/api/v1", KeyEnv: "VENICE_AI_API_KEY"},
	{Name: "xiaomi_mimo", Dialect: DialectOpenAI, BaseURL: "https://api.xiaomimimo.com/v1", KeyEnv: "XIAOMI_MIMO_API_KEY", ParamRenames: maxTokens},
	{Name: "scaleway", Dialect: DialectOpenAI, BaseURL: "https://api.scaleway.ai/v1", KeyEnv: "SCW_SECRET_KEY"},
	{Name: "synthetic", Dialect: DialectOpenAI, BaseURL: "https://api.synthetic.new/openai/v1", KeyEnv: "SYNTHETIC_API_KEY", ParamRenames: maxTokens},
	{Name: "apertis", Dialect: DialectOpenAI, BaseURL: "https://api.stima.tech/v1", KeyEnv: "STIMA_API_KEY", ParamRenames: maxTokens},
	{Name: "nano-gpt", Dialect: DialectOpenAI, BaseURL: "https://nano-gpt.com/api/v1", KeyEnv: "NANOGPT_API_KEY", ParamRenames: maxTokens},
	{Name: "poe", Dialect: DialectOpenAI, BaseURL: "https://api.poe.com/v1", KeyEnv: "POE_API_KEY", ParamRenames: maxTokens},
	{Name: "chutes", Dialect: DialectOpenAI, BaseURL: "https://llm.chutes.ai/v1", KeyEnv: "CHUTES_API_KEY", ParamRenames: maxTokens},
	{Name: "abliteration", Dialect: DialectOpenAI, BaseURL: "https://api.abliteration.ai/v1", KeyEnv: "ABLITERATION_API_KEY"},
	{Name: "llamagate", Dialect: DialectOpenAI, BaseURL: "https://api.llamagate.dev/v1", KeyEnv: "LLAMAGATE_API_KEY", ParamRenames: maxTokens},
	{Name: "gmi", Dialect: DialectOpenAI, BaseURL: "https://api.gmi-serving.com/v1", KeyEnv: "GMI_API_KEY"},
	{Name: "assemblyai", Dialect: DialectOpenAI, BaseURL: "https://llm-gateway.assemblyai.com/v1", KeyEnv: "ASSEMBLYAI_API_KEY"},
	{Name: "charity_engine", Dialect: DialectOpenAI, BaseURL: "https://api.charityengine.services/remotejobs/v2/inference", KeyEnv: "CHARITY_ENGINE_API_KEY",
		ParamRenames: maxTokens},
	{Name: "aihubmix", Dialect: DialectOpenAI, BaseURL: "https://aihubmix.com/v1", BaseEnv: "AIHUBMIX_API_BASE", KeyEnv: "AIHUBMIX_API_KEY"},
	{Name: "crusoe", Dialect: DialectOpenAI, BaseURL: "https://managed-inference-api-proxy.crusoecloud.com/v1", BaseEnv: "CRUSOE_API_BASE",
		KeyEnv: "CRUSOE_API_KEY", ParamRenames: maxTokens},
	{Name: "salad_cloud", Dialect: DialectOpenAI, BaseURL: "https://ai.salad.cloud/v1", KeyEnv: "SALAD_CLOUD_API_KEY"},
	{Name: "sarvam", Dialect: DialectOpenAI, BaseURL: "https://api.sarvam.ai/v1", KeyEnv: "SARVAM_API_KEY", ParamRenames: maxTokens,
		KeyHeaders: []string{"Api-Subscription-Key"}},
	// LiteLLM's other OpenAI-compatible providers, as its provider logic
	// addresses them.
	{Name: "llamafile", Dialect: DialectOpenAI, LoadsModels: true, BaseURL: "http://127.0.0.1:8080/v1", BaseEnv: "LLAMAFILE_API_BASE", KeyEnv: "LLAMAFILE_API_KEY", Embeddings: true},
	{Name: "lemonade", Dialect: DialectOpenAI, LoadsModels: true, BaseURL: "http://localhost:8000/api/v1", BaseEnv: "LEMONADE_API_BASE", KeyEnv: "LEMONADE_API_KEY"},
	// Docker Model Runner takes a list of text parts only as a string, and
	// max_tokens for max_completion_tokens.
	{Name: "docker_model_runner", Dialect: DialectOpenAI, LoadsModels: true, BaseURL: "http://localhost:12434/engines/v1", BaseEnv: "DOCKER_MODEL_RUNNER_API_BASE",
		KeyEnv: "DOCKER_MODEL_RUNNER_API_KEY", Embeddings: true, ParamRenames: maxTokens, FlattenContent: []string{"system", "user", "assistant", "tool"}},
	// Heroku's Managed Inference: its api_base is the app's INFERENCE_URL
	// (the API under /v1); content only as a string.
	{Name: "heroku", Dialect: DialectOpenAI, BaseEnv: "HEROKU_API_BASE", KeyEnv: "HEROKU_API_KEY", PathSuffix: "/v1",
		FlattenContent: []string{"system", "user", "assistant", "tool"}},
	{Name: "compactifai", Dialect: DialectOpenAI, BaseURL: "https://api.compactif.ai/v1", KeyEnv: "COMPACTIFAI_API_KEY"},
	{Name: "vllm", Unsupported: "vLLM run inside LiteLLM's own process (for a vLLM server, write hosted_vllm/<model> with its api_base)"},
	{Name: "empower", Dialect: DialectOpenAI, BaseURL: "https://app.empower.dev/api/v1", BaseEnv: "EMPOWER_API_BASE", KeyEnv: "EMPOWER_API_KEY"},
	{Name: "galadriel", Dialect: DialectOpenAI, BaseURL: "https://api.galadriel.com/v1", BaseEnv: "GALADRIEL_API_BASE", KeyEnv: "GALADRIEL_API_KEY"},
	{Name: "friendliai", Dialect: DialectOpenAI, BaseURL: "https://api.friendli.ai/serverless/v1", BaseEnv: "FRIENDLI_API_BASE", KeyEnv: "FRIENDLIAI_API_KEY",
		MoreKeyEnvs: []string{"FRIENDLI_TOKEN"}},
	{Name: "vercel_ai_gateway", Dialect: DialectOpenAI, BaseURL: "https://ai-gateway.vercel.sh/v1", BaseEnv: "VERCEL_AI_GATEWAY_API_BASE", KeyEnv: "VERCEL_AI_GATEWAY_API_KEY",
		MoreKeyEnvs: []string{"VERCEL_OIDC_TOKEN"}, Embeddings: true},
	{Name: "v0", Dialect: DialectOpenAI, BaseURL: "https://api.v0.dev/v1", BaseEnv: "V0_API_BASE", KeyEnv: "V0_API_KEY"},
	{Name: "morph", Dialect: DialectOpenAI, BaseURL: "https://api.morphllm.com/v1", BaseEnv: "MORPH_API_BASE", KeyEnv: "MORPH_API_KEY"},
	{Name: "ovhcloud", Dialect: DialectOpenAI, BaseURL: "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1", BaseEnv: "OVHCLOUD_API_BASE", KeyEnv: "OVHCLOUD_API_KEY", Embeddings: true},
	{Name: "minimax", Dialect: DialectOpenAI, BaseURL: "https://api.minimax.io/v1", BaseEnv: "MINIMAX_API_BASE", KeyEnv: "MINIMAX_API_KEY"},
	{Name: "cometapi", Dialect: DialectOpenAI, BaseURL: "https://api.cometapi.com/v1", BaseEnv: "COMETAPI_API_BASE", MoreBaseEnvs: []string{"COMETAPI_BASE_URL"},
		KeyEnv: "COMETAPI_KEY", MoreKeyEnvs: []string{"COMETAPI_API_KEY"}, Embeddings: true},
	{Name: "aiml", Dialect: DialectOpenAI, BaseURL: "https://api.aimlapi.com/v1", BaseEnv: "AIML_API_BASE", KeyEnv: "AIML_API_KEY",
		MoreKeyEnvs: []string{"AIMLAPI_API_KEY", "AIMLAPI_KEY"}},
	{Name: "xinference", Dialect: DialectOpenAI, BaseURL: "http://127.0.0.1:9997/v1", BaseEnv: "XINFERENCE_API_BASE", KeyEnv: "XINFERENCE_API_KEY", Embeddings: true},
	{Name: "anyscale", Dialect: DialectOpenAI, BaseURL: "https://api.endpoints.anyscale.com/v1", BaseEnv: "ANYSCALE_API_BASE", KeyEnv: "ANYSCALE_API_KEY"},
	{Name: "litellm_proxy", Dialect: DialectOpenAI, BaseEnv: "LITELLM_PROXY_API_BASE", KeyEnv: "LITELLM_PROXY_API_KEY", Embeddings: true},
	{Name: "text-completion-openai", Dialect: DialectOpenAI, BaseURL: "https://api.openai.com/v1", KeyEnv: "OPENAI_API_KEY", Embeddings: true},
	{Name: "bedrock", Dialect: DialectAnthropic, Bedrock: true,
		Markers: []Marker{{Prefix: "invoke/"}, {Prefix: "converse/"}}},
	{Name: "bedrock_converse", Dialect: DialectAnthropic, Bedrock: true},
	{Name: "sagemaker", Unsupported: "its container's own request format (sagemaker_chat/ calls a container that speaks OpenAI's chat API)"},
	{Name: "sagemaker_chat", Dialect: DialectOpenAI, SageMaker: true},
	{Name: "vertex_ai", Dialect: DialectOpenAI, Vertex: true, ModelParams: geminiModels},
	{Name: "vertex_ai_beta", Dialect: DialectOpenAI, Vertex: true, ModelParams: geminiModels},
	{Name: "watsonx", Dialect: DialectOpenAI, Watsonx: true},
	{Name: "azure_ai", Dialect: DialectOpenAI, BaseEnv: "AZURE_AI_API_BASE", KeyEnv: "AZURE_AI_API_KEY", Embeddings: true, Entra: true,
		HostRules: []HostRule{{Suffix: ".services.ai.azure.com", KeyHeader: "api-key", Path: "/models"}, {Suffix: ".openai.azure.com", KeyHeader: "api-key"}}},
	{Name: "databricks", Dialect: DialectOpenAI, BaseEnv: "DATABRICKS_API_BASE", KeyEnv: "DATABRICKS_API_KEY", Embeddings: true},
	{Name: "cloudflare", Dialect: DialectOpenAI, BaseURL: "https://api.cloudflare.com/client/v4/accounts/{account}/ai/v1", AccountEnv: "CLOUDFLARE_ACCOUNT_ID",
		KeyEnv: "CLOUDFLARE_API_KEY", Embeddings: true, CompatSuffix: "/ai/v1"},
	{Name: "replicate", Unsupported: "Replicate's prediction API"},
}

// KeyEnvs returns the variables LiteLLM reads p's key from, in order.
func (p ProviderInfo) KeyEnvs() []string {
	if p.KeyEnv == "" {
		return nil
	}
	return append([]string{p.KeyEnv}, p.MoreKeyEnvs...)
}

// BaseEnvs returns the variables LiteLLM reads p's api_base from, in order.
func (p ProviderInfo) BaseEnvs() []string {
	if p.BaseEnv == "" {
		return nil
	}
	return append([]string{p.BaseEnv}, p.MoreBaseEnvs...)
}

// LookupProvider returns what breakerd knows of a LiteLLM provider prefix.
func LookupProvider(name string) (ProviderInfo, bool) {
	i := slices.IndexFunc(providerTable, func(p ProviderInfo) bool { return p.Name == name })
	if i < 0 {
		return ProviderInfo{}, false
	}
	return providerTable[i], true
}

// Providers returns the provider table, supported ones first, in table
// order. Callers must not modify it.
func Providers() []ProviderInfo { return providerTable }

// providerNames lists the names of the providers breakerd can call.
func providerNames() []string {
	var out []string
	for _, p := range providerTable {
		if p.Unsupported == "" {
			out = append(out, p.Name)
		}
	}
	return out
}

// bareModelProviders infers a provider from a model name without a
// prefix, as LiteLLM does for the names it knows: model: gpt-3.5-turbo
// (LiteLLM's Helm chart default) is OpenAI's.
var bareModelProviders = []struct{ prefix, provider string }{
	{"gpt-", "openai"},
	{"chatgpt-", "openai"},
	{"o1", "openai"},
	{"o3", "openai"},
	{"o4-", "openai"},
	{"text-embedding-", "openai"},
	{"davinci", "openai"},
	{"babbage", "openai"},
	{"dall-e-", "openai"},
	{"whisper-", "openai"},
	{"tts-", "openai"},
	{"omni-moderation-", "openai"},
	{"text-moderation-", "openai"},
	{"computer-use-", "openai"},
	{"codex-", "openai"},
	{"claude-", "anthropic"},
}

// inferProvider returns the provider LiteLLM would infer for a bare model
// name, or "".
func inferProvider(model string) string {
	for _, b := range bareModelProviders {
		if strings.HasPrefix(model, b.prefix) {
			return b.provider
		}
	}
	return ""
}

// makerAPIs are the providers of the makers in modelMakers that serve
// their models through an API of their own, as LiteLLM names it.
var makerAPIs = map[string]string{"nvidia": "nvidia_nim"}

// modelMakers are the organizations that lead open models' names, as
// Hugging Face and OpenRouter write them (mistralai/mistral-7b-instruct):
// a model written so names its maker, not a provider that serves it.
var modelMakers = []string{"mistralai", "meta-llama", "qwen", "deepseek-ai", "microsoft", "google", "nvidia", "nousresearch",
	"tiiuae", "bigcode", "ibm-granite", "allenai", "cohereforai", "01-ai", "moonshotai", "x-ai", "amazon"}

// AzureV1 reports whether an Azure deployment's api_version selects Azure
// OpenAI's v1 API ({api_base}/openai/v1/..., the deployment as the body's
// model, no dated api-version), as LiteLLM reads "v1", "latest" and
// "preview"; "preview" also asks for the v1 API's preview features.
func AzureV1(apiVersion string) bool {
	switch apiVersion {
	case "v1", "latest", "preview":
		return true
	}
	return false
}

// AzureTakesStreamOptions reports whether Azure OpenAI's chat API at
// apiVersion takes stream_options: from 2024-09-01-preview (stable from
// 2024-10-21), and the v1 API; an older one refuses it with a 400.
func AzureTakesStreamOptions(apiVersion string) bool {
	return AzureV1(apiVersion) || apiVersion >= "2024-09-01"
}

// AzureResponsesAPIVersion is the api-version of an Azure deployment's
// calls to the Responses API: apiVersion, unless it is a dated one older
// than that API ("Azure OpenAI Responses API is enabled only for
// api-version 2025-03-01-preview and later"; LiteLLM's default,
// AzureDefaultAPIVersion, is), then azureResponsesVersion.
func AzureResponsesAPIVersion(apiVersion string) string {
	if AzureV1(apiVersion) || apiVersion >= "2025-03-01" {
		return apiVersion
	}
	return azureResponsesVersion
}

// azureResponsesVersion is the api-version the Responses API is called at
// where a deployment's is older than that API.
const azureResponsesVersion = "2025-04-01-preview"

// azureRenames has an Azure deployment on an api-version older than
// 2024-09-01-preview, which refuses max_completion_tokens (as it refuses
// stream_options), send it as max_tokens, as LiteLLM does; today's SDKs
// and agents send max_completion_tokens.
func azureRenames(d *Deployment) {
	if d.Dialect == DialectAzure && !AzureTakesStreamOptions(d.APIVersion) {
		d.ParamRenames = maxTokens
	}
}

// AzureDefaultAPIVersion is the api-version used for an Azure deployment
// that sets none (and AZURE_API_VERSION is not set), LiteLLM's default.
const AzureDefaultAPIVersion = "2025-02-01-preview"

// unservedModes are LiteLLM's model_info.mode values for models of APIs
// breakerd does not serve, with the API each is for. The modes it serves
// are chat, completion, embedding and responses, batch (a chat model that
// clients send batches to, as LiteLLM's managed batches mark it), and
// those of modeAPIs.
var unservedModes = map[string]string{
	"ocr":    "/v1/ocr",
	"search": "/v1/search",
}

// servedAPIs says what breakerd serves, to a deployment left out for a
// mode it does not.
const servedAPIs = "breakerd serves chat, embeddings, the Responses and Messages APIs, legacy completions, " +
	"audio transcriptions and speech, image generations and edits, moderations and videos"

// modeAPIs are the modes whose deployments serve an API other than chat,
// that one alone: the API, whether Azure OpenAI has it too (OpenAI itself
// and OpenAI-compatible servers may), and whether only the openai
// provider does (OpenAI, or a server that speaks its API: not Gemini's or
// another vendor's OpenAI-compatible endpoint).
var modeAPIs = map[string]struct {
	api             string
	azure, onlyOpen bool
}{
	"audio_transcription": {"/v1/audio/transcriptions", true, false},
	"audio_speech":        {"/v1/audio/speech", true, false},
	"image_generation":    {"/v1/images/generations", true, false},
	"image_edit":          {"/v1/images/edits", true, false},
	"moderation":          {"/v1/moderations", false, false},
	"realtime":            {"/v1/realtime", true, false},
	"rerank":              {"/v1/rerank", false, false},
	"video_generation":    {"/v1/videos", false, true},
}

// modelModes know the mode of models by their names, for a deployment
// whose model_info gives none: a model name containing the first
// (lowercased) is of the second's mode.
var modelModes = []struct{ contains, mode string }{
	{"whisper", "audio_transcription"},
	{"-transcribe", "audio_transcription"},
	{"tts-", "audio_speech"},
	{"-tts", "audio_speech"},
	{"dall-e", "image_generation"},
	{"gpt-image", "image_generation"},
	{"imagen-", "image_generation"}, // Google's imagen-4.0-generate-001
	{"veo-", "video_generation"},    // Google's veo-3.1-generate-001
	{"sora-", "video_generation"},   // OpenAI's sora-2, sora-2-pro
	{"moderation", "moderation"},
	{"realtime", "realtime"},
	{"rerank", "rerank"},
	{"embed", "embedding"}, // text-embedding-3-*, nomic-embed-text, embed-english-v3.0, gemini-embedding-001, ...
	// Hosted chat families, which serve no embeddings: their deployments
	// get no embeddings circuit that no call would reach.
	{"gpt-", "chat"},
	{"chatgpt", "chat"},
	{"claude", "chat"},
	{"gemini-", "chat"},
}

// modeOfModel is the mode modelModes know model by, "" (chat) if none.
func modeOfModel(model string) string {
	m := strings.ToLower(model)
	for _, mm := range modelModes {
		if strings.Contains(m, mm.contains) {
			return mm.mode
		}
	}
	return ""
}

// anthropicBetas are the anthropic-beta values the platforms that serve
// Claude besides Anthropic's own API take, by the name clients (Claude
// Code) send, with the name the platform knows each by (LiteLLM's table,
// anthropic_beta_headers_config.json). Any other is left out: an unknown
// beta there is a 400 ("Unexpected value(s) ... for the anthropic-beta
// header" on Vertex AI, "invalid beta flag" on Bedrock), where Anthropic's
// API takes it.
var anthropicBetas = map[string]map[string]string{
	"bedrock": {"advanced-tool-use-2025-11-20": "tool-search-tool-2025-10-19", "compact-2026-01-12": "", "computer-use-2025-01-24": "",
		"computer-use-2025-11-24": "", "context-1m-2025-08-07": "", "context-management-2025-06-27": "", "dangerous-tool-use-2026-09-03": "",
		"effort-2025-11-24": "", "fine-grained-tool-streaming-2025-05-14": "", "thinking-binding-controls-2026-08-01": "",
		"tool-search-tool-2025-10-19": "", "mid-conversation-output-config-2026-07-01": "", "thinking-display-updates-2026-08-18": "",
		"mid-conversation-tool-changes-2026-07-01": ""},
	"vertex_ai": {"advanced-tool-use-2025-11-20": "tool-search-tool-2025-10-19", "compact-2026-01-12": "", "compact-2026-09-04": "",
		"computer-use-2025-01-24": "", "computer-use-2025-11-24": "", "context-1m-2025-08-07": "", "context-management-2025-06-27": "",
		"dangerous-tool-use-2026-09-03": "", "interleaved-thinking-2025-05-14": "", "per-turn-control-2026-07-01": "",
		"thinking-binding-controls-2026-08-01": "", "thinking-display-updates-2026-08-18": "", "tool-search-tool-2025-10-19": "",
		"web-search-2025-03-05": ""},
	"azure_ai": {"advanced-tool-use-2025-11-20": "", "code-execution-2025-08-25": "", "computer-use-2025-01-24": "", "computer-use-2025-11-24": "",
		"context-1m-2025-08-07": "", "context-management-2025-06-27": "", "dangerous-tool-use-2026-09-03": "", "effort-2025-11-24": "",
		"files-api-2025-04-14": "", "interleaved-thinking-2025-05-14": "", "mcp-client-2025-11-20": "", "mcp-client-2025-04-04": "",
		"per-turn-control-2026-07-01": "", "prompt-caching-scope-2026-01-05": "", "skills-2025-10-02": "", "structured-outputs-2025-11-13": "",
		"thinking-display-updates-2026-08-18": "", "web-fetch-2025-09-10": "", "web-search-2025-03-05": ""},
}

// AnthropicBetas returns a request's anthropic-beta (comma-separated) as
// platform ("bedrock", "vertex_ai", "azure_ai") takes it: the betas it
// knows, under its names (a mapped name "" is the beta's own), the
// others left out, each once. Another platform (Anthropic's own API, an
// Anthropic-compatible server) gets beta as it is.
func AnthropicBetas(platform, beta string) string {
	known, ok := anthropicBetas[platform]
	if !ok || beta == "" {
		return beta
	}
	var out []string
	for b := range strings.SplitSeq(beta, ",") {
		name, takes := known[strings.TrimSpace(b)]
		if name == "" {
			name = strings.TrimSpace(b)
		}
		if takes && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return strings.Join(out, ",")
}
