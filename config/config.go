// Package config turns a breakerd (LiteLLM-style) YAML file into typed
// settings. It is the only package that parses YAML: the gateway and the
// breaker core receive the typed Config. Every error names the file, line,
// column and key, and says what is wrong.
package config

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/complexity"
)

// Config is a loaded, validated configuration.
type Config struct {
	// LeftOut holds the model groups of model_list none of whose
	// deployments breakerd can call (an unsupported provider), each with
	// why its first was left out: a request for one is told so.
	LeftOut map[string]string
	// ProviderKeys are providers' keys read from their variables
	// (OPENAI_API_KEY, ...) for catch-all deployments (model: "*"), by
	// provider; nil when the config has none.
	ProviderKeys map[string]Secret
	// Path is the file the config came from, and Included the files its
	// include merged in, in order.
	Path        string
	Included    []string
	Server      Server
	Logging     Logging
	Metrics     Metrics
	Deployments []Deployment
	// FileStores are LiteLLM's files_settings: the accounts (openai and
	// azure) where the Files and Batch APIs keep an upload that names no
	// model, by the upload's custom_llm_provider (openai when it names
	// none). Each is a deployment of the model group FileStoreGroup, in no
	// route, named files_settings/<provider>.
	FileStores []Deployment
	// Groups lists model groups (model_name) in order of first appearance.
	Groups   []string
	Router   Router
	Alerting Alerting
	Health   Health
	Admin    Admin
	// Cache is LiteLLM's response cache; nil when off.
	Cache *Cache
	// PassThrough are LiteLLM's pass_through_endpoints
	// (general_settings).
	PassThrough []PassThrough
	// Warnings are problems that do not stop the config from loading, each
	// with its position.
	Warnings []string
}

// Alerting is router_settings.alerting. The seed's webhook_url and
// slack_webhook become a webhook and a Slack notifier.
type Alerting struct {
	Notifiers    []Notifier
	DashboardURL string
	RunbookURL   string
	// GroupWindow groups breakers that open within it into one message.
	GroupWindow time.Duration
	// FlapThreshold changes within FlapWindow make a breaker flapping;
	// it is quiet until stable for StableAfter.
	FlapThreshold int
	FlapWindow    time.Duration
	StableAfter   time.Duration
	// ReminderInterval, when > 0, repeats the alert while a circuit stays open.
	ReminderInterval time.Duration
	QueueSize        int
	MaxRetries       int
	// SlowThreshold, when > 0, alerts on a deployment whose answer (a
	// stream's first chunk) took at least this long, or that hung that
	// long before it was cut (LiteLLM's llm_too_slow; alert kind slow),
	// and on a call that has waited this long and waits still
	// (llm_requests_hanging; kind hanging), as general_settings.
	// alerting_threshold sets: at most one alert of each per breaker in
	// ten minutes.
	SlowThreshold time.Duration
}

// Notifier is one alert destination.
type Notifier struct {
	Type string // slack, webhook or pagerduty
	Name string
	// Slack: an incoming webhook, or a bot token and a channel.
	WebhookURL Secret
	Token      Secret
	Channel    string
	APIURL     string // Slack Web API base, for tests and proxies
	// Webhook.
	URL     Secret
	Headers map[string]Secret
	Secret  Secret // HMAC-SHA256 signing key
	Format  string // breakerd or alertmanager
	// PagerDuty Events API v2.
	RoutingKey Secret
	EventsURL  string
	Timeout    time.Duration
	// Filters; empty means all. Breakers are path.Match patterns.
	Breakers    []string
	Providers   []string
	Transitions []string // open, resolved, half_open, flapping, reminder
}

// AlertKinds are the message kinds a notifier's transitions filter names.
var AlertKinds = []string{"open", "resolved", "half_open", "flapping", "reminder", "budget_spent", "cooldown", "slow", "hanging"}

// Health configures the /health policy.
type Health struct {
	// Policy is "routable" (default) or "open_fraction".
	Policy string
	// OpenFraction: open_fraction is unhealthy when at least this share of
	// circuits is open (default 0.5, the seed's rule).
	OpenFraction float64
	// UnroutableFraction: routable is unhealthy when at least this share
	// of the judged groups has no deployment that lets calls through.
	// 0 means the default: any critical group, or else all groups.
	UnroutableFraction float64
	// CriticalGroups, when set, are the groups the routable policy judges.
	CriticalGroups []string
	// Probes are LiteLLM's background health checks.
	Probes Probes
}

// Cache is LiteLLM's response cache (litellm_settings.cache: true,
// cache_params): an answer to a request that is the same, value for value
// (LiteLLM's own parameters aside), as one answered within TTL is given
// again from memory, with no upstream call.
type Cache struct {
	// TTL is how long an answer is kept (cache_params.ttl).
	TTL time.Duration
	// APIs are the client APIs cached (supported_call_types): "chat",
	// "embeddings", "completions".
	APIs []string
	// DefaultOff caches only the requests that ask (cache: {use-cache:
	// true}), as cache_params.mode: default_off has it.
	DefaultOff bool
	// MaxBytes bounds the answers kept; the least recently used go first.
	MaxBytes int64
	// Shared keeps the answers in Redis too (cache_params.type: redis):
	// a replica answers what another kept. The Redis is Redis's, when
	// set, else the fleet's (router_settings').
	Shared bool
	// Groups maps the model groups that share their answers (LiteLLM's
	// router_settings.caching_groups: an Azure and an OpenAI deployment
	// of one model) to the name their answers are kept under, the first
	// of theirs; a group not in it keeps its own.
	Groups map[string]string
	// Redis is the cache's own Redis (cache_params' host, port, password,
	// username, url, namespace and ssl, else LiteLLM's $REDIS_URL or
	// $REDIS_HOST, $REDIS_PORT, $REDIS_PASSWORD, $REDIS_USERNAME and
	// $REDIS_SSL); nil when the answers are the fleet's, or only in
	// memory.
	Redis *Redis
}

// Probes are LiteLLM's background health checks (general_settings
// background_health_checks): every Interval each deployment gets a
// one-token call of its own (chat, or embeddings for an embedding
// model), so that a deployment no traffic reaches is still known to be
// down, and one whose circuit is open is known to be back without a
// client's request as the trial.
type Probes struct {
	// Interval is how often; 0 for no probes.
	Interval time.Duration
	// Routing makes probes count toward the deployments' breakers, as
	// calls do (enable_health_check_routing); without it they are only
	// counted and logged.
	Routing bool
	// IgnoreTransient leaves a probe's 429 and 408 out of the breaker
	// (health_check_ignore_transient_errors).
	IgnoreTransient bool
	// Groups, when not nil, are the model_names whose deployments are
	// checked (background_health_check_model_groups); nil checks all.
	Groups []string
	// TripAtOnce, with Routing, opens a deployment's circuit at its first
	// failed probe, as LiteLLM excludes a deployment at its first failed
	// check; with LiteLLM's allowed_fails_policy set it is off, and
	// probes count toward the breaker as calls do.
	TripAtOnce bool
}

// PassThrough is one of LiteLLM's pass_through_endpoints: a request to
// Path (or below it, with IncludeSubpath) is relayed as it comes to
// Target (with the rest of its path), through a breaker of its own.
type PassThrough struct {
	Path, Target string
	// Headers are sent with each relayed request; their values are
	// secrets (provider keys).
	Headers map[string]Secret
	// ForwardHeaders sends the client's headers too (forward_headers);
	// IncludeSubpath serves the paths below Path; Auth asks for the master
	// key, when one is set (LiteLLM's auth; without it none is asked).
	ForwardHeaders, IncludeSubpath, Auth bool
}

// Check is one deployment's background health check settings (LiteLLM's
// model_info keys); the zero value is the default check.
type Check struct {
	// Off leaves the deployment unchecked
	// (disable_background_health_check).
	Off bool
	// Model is the model a wildcard deployment is checked with
	// (health_check_model, as litellm_params.model writes it), besides
	// those clients have asked for.
	Model string
	// Timeout bounds the check (health_check_timeout); 0 is the default
	// (a minute, or the deployment's timeout when shorter).
	Timeout time.Duration
	// MaxTokens replaces the check's token limit
	// (health_check_max_tokens); nil keeps the default, and NoMaxTokens
	// (health_check_supports_max_tokens: false) sends none.
	MaxTokens   *int
	NoMaxTokens bool
	// Params are fields added to the check's request, as JSON values
	// (health_check_params, and health_check_reasoning_effort as
	// reasoning_effort); they win over the check's own.
	Params map[string]json.RawMessage
}

// Admin configures the admin API, which is off without a token.
type Admin struct {
	Token Secret
	// Listen, when set, serves the admin API there instead of on the
	// main listener.
	Listen string
}

// Server configures breakerd's own listener.
type Server struct {
	Listen string
	// AllowedRoutes, when set, are the only API routes served (LiteLLM's
	// allowed_routes; others get a 403), and PublicRoutes those served
	// without the master key (public_routes). Each is a path, with or
	// without /v1, or a prefix written /path/*. /health, /metrics and the
	// status page are always served, without a key.
	AllowedRoutes, PublicRoutes []string
	// AllowedIPs, when set, are the only client addresses (each a single
	// address or a CIDR range) whose API requests are served (LiteLLM's
	// allowed_ips); others get a 403 before the key is checked. The
	// address is the connection's, or with ForwardedFor the last one in
	// X-Forwarded-For (the one the proxy in front of breakerd added; a
	// client can forge those before it). /health, /metrics and the status
	// page are served to any address.
	AllowedIPs   []netip.Prefix
	ForwardedFor bool
	// MetricsListen, when set, also serves /metrics on this address.
	MetricsListen     string
	MaxBodyBytes      int64
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (default
	// 120s, above the 60s idle timeout of common load balancers).
	IdleTimeout time.Duration
	// BodyReadTimeout is the longest pause allowed while a request body
	// arrives (default 60s, as nginx's client_body_timeout); a 408 then.
	BodyReadTimeout time.Duration
	// SendTimeout is the longest a write to a client may block (default
	// 60s, as nginx's send_timeout): a client that stops reading is dropped.
	SendTimeout   time.Duration
	ShutdownDrain time.Duration
	// ShutdownGrace is how long in-flight requests (long streams above
	// all) may run on after the drain, once breakerd stops accepting
	// (default 30s); then each is ended, a stream with a final error
	// event, and logged.
	ShutdownGrace time.Duration
	// MaxConcurrent caps requests the gateway serves at once (0: no cap).
	MaxConcurrent int
	// MaxConnections caps the client connections open at once on the
	// API listener; past it, new ones wait in the kernel's listen queue.
	// 0 (the default) means half the process's open-file limit, so that
	// a flood of clients cannot take the descriptors upstream calls need.
	MaxConnections int
	// FetchPrivateURLs lets breakerd fetch the images and documents a
	// request names by URL, for upstreams that take them only as data
	// (Bedrock, Vertex AI's Claude), from private and loopback addresses
	// too. Off by default: a client must not reach internal hosts
	// through breakerd.
	FetchPrivateURLs bool
	// CORSOrigins are the browser origins (scheme://host[:port], or "*"
	// for any) that may call the API from a web page. Empty: none.
	CORSOrigins []string
	// MasterKey, when set (general_settings.master_key, else the
	// LITELLM_MASTER_KEY variable, as in LiteLLM), is
	// the key API clients must send, as a bearer token or an api-key
	// header. Health, metrics and the status page stay open.
	MasterKey Secret
	// MasterKeyFrom names the variable the master key came from when the
	// config sets none ("" when it does).
	MasterKeyFrom string
}

// Metrics configures /metrics.
type Metrics struct {
	// LiteLLMNames adds the metrics of LiteLLM's Prometheus callback
	// (litellm_deployment_state, litellm_proxy_total_requests_metric,
	// ...) to breakerd's own, for dashboards and alert rules written for
	// a LiteLLM proxy: LiteLLM's litellm_settings.callbacks with
	// "prometheus".
	LiteLLMNames bool
}

// Logging configures log output.
type Logging struct {
	Format string // "text" or "json"
	Level  string // "debug", "info", "warn" or "error"
}

// Deployment is one model_list entry: one upstream model behind a group.
type Deployment struct {
	// Name is unique and stable: group/provider/model, with #N appended
	// when the same triple appears more than once, or ID.
	Name string
	// ID is LiteLLM's model_info.id, when set: the deployment's Name, and
	// a name fallbacks may give to try this deployment alone (LiteLLM's
	// exact targeting).
	ID    string
	Group string
	// Provider is LiteLLM's provider prefix (openai, groq, ...), and
	// Dialect the API it speaks (ProviderInfo).
	Provider string
	Dialect  Dialect
	// Embeddings is whether the provider serves /embeddings.
	Embeddings bool
	// ParamRenames are the request parameters the provider knows by
	// other names (ProviderInfo.ParamRenames): a request's is sent under
	// the provider's name, unless it sets that too.
	ParamRenames map[string]string
	// Refuses are the chat parameters the provider refuses
	// (ProviderInfo.Refuses), and RefusesInMessages the fields of a chat
	// message (ProviderInfo.RefusesInMessages).
	Refuses           map[string]string
	RefusesInMessages []string
	// Fit is the rest of what the model (by its name) takes and refuses:
	// ModelParams' while-reasoning refusals, schema keywords, efforts and
	// tools rule, merged for it (its Prefixes, Models, Renames and Refuses
	// unset: ParamRenames and Refuses above hold the provider's too).
	Fit ModelParams
	// FlattenContent are the roles whose list content is sent as a string
	// (ProviderInfo.FlattenContent).
	FlattenContent []string
	// CachePoints are the messages of a chat request to Claude that are
	// marked for its prompt cache (LiteLLM's
	// cache_control_injection_points).
	CachePoints []CachePoint
	// Mode is LiteLLM's kind of model (model_info.mode, else known from
	// the model's name): audio_transcription, audio_speech and
	// image_generation deployments serve that API alone; any other
	// serves chat (and embeddings, where the provider does).
	Mode string
	// Check is the deployment's own health check settings, from
	// LiteLLM's model_info.health_check_* keys.
	Check Check
	// ModelRef is litellm_params.model as written (env references
	// resolved). Wildcard is set when it holds a "*" ("openai/*", or "*"
	// for any provider): such a deployment is a template that Resolve
	// turns into one deployment per requested model.
	ModelRef string
	Wildcard bool
	// Resolved is set on a deployment Resolve made: its model is the one
	// a client asked for, which its upstream may not have.
	Resolved bool
	// Retired says when the model's vendor retired it from its own API,
	// at which the deployment calls it ("retired by Anthropic on
	// 2025-10-22; Anthropic names claude-sonnet-4-6 instead"), from the
	// built-in table; "" when it has not.
	Retired string
	// Defaults are LiteLLM's request defaults from litellm_params
	// (temperature, max_tokens, seed, ...), as JSON values: a request
	// that does not set one gets it, as in LiteLLM.
	Defaults map[string]json.RawMessage
	// DropParams (litellm_params.drop_params, else litellm_settings') lets
	// this deployment take a request with parameters its provider cannot
	// honour, without them, instead of being passed over.
	DropParams bool
	// MergeReasoning (LiteLLM's merge_reasoning_content_in_choices) has
	// a chat client get the model's reasoning in its answer's content,
	// between <think> and </think> before the answer, as chat UIs (Open
	// WebUI) show it, instead of in reasoning_content.
	MergeReasoning bool
	Model          string
	APIKey         Secret
	APIBase        string
	// APIVersion is Azure's api-version or Anthropic's anthropic-version.
	APIVersion string
	// Query is added to every upstream URL (Azure AI Foundry's
	// api-version), encoded; "" for none.
	Query string
	// KeyHeader is the header APIKey is sent in, where it is not sent as
	// a bearer token (Azure AI Foundry's api-key); "" for the bearer.
	KeyHeader string
	// HTTP2PriorKnowledge (breakerd's http2_prior_knowledge) has calls to
	// an http:// api_base made over cleartext HTTP/2 (h2c) without an
	// HTTP/1.1 upgrade, as curl's --http2-prior-knowledge does: streams
	// share a few connections instead of holding one each. Only for a
	// server known to speak it; an https:// upstream speaks HTTP/2
	// whenever the server offers it, without this.
	HTTP2PriorKnowledge bool
	// TLSSkipVerify (LiteLLM's ssl_verify: false) has calls to an
	// https:// api_base not check the server's certificate; TLSRootCAs
	// (ssl_verify: a CA bundle's path), when set, holds the PEM
	// certificates it is checked against instead of the system's.
	TLSSkipVerify bool
	TLSRootCAs    []byte
	// Timeout bounds one non-streaming upstream attempt, from sending to
	// the whole answer (LiteLLM's timeout; DefaultTimeout when unset).
	Timeout time.Duration
	// StreamTimeout bounds a stream's wait for its first chunk, and then
	// for each next one (LiteLLM's stream_timeout; when unset, the
	// smaller of Timeout and DefaultStreamTimeout). It is what catches a
	// provider that accepts the connection and never answers.
	StreamTimeout time.Duration
	// Region is where the deployment runs, for requests that name the
	// regions they allow (LiteLLM's allowed_model_region): its
	// region_name, else "eu" or "us" as its AWS region or Vertex AI
	// location says; "" when not known.
	Region string
	// FirstChunkTimeout, when set, bounds a stream's wait for its first
	// chunk in place of StreamTimeout (LiteLLM's ttft_timeout; a local
	// model server's default is LocalStreamTimeout), and ChunkIdleTimeout
	// its wait for each later one (stream_idle_timeout).
	FirstChunkTimeout, ChunkIdleTimeout time.Duration
	MaxParallel                         int // 0: no limit
	// NumRetries is how many times a counted failure of this deployment
	// is retried (litellm_params.num_retries); nil: router_settings'.
	NumRetries *int
	// Order, when set, is LiteLLM's order: the deployment's tier in its
	// group, the lowest tried first (each by the group's strategy), the
	// deployments without one after every tier.
	Order *int
	// Tags are LiteLLM's litellm_params.tags, for tag routing
	// (Router.TagFiltering).
	Tags []string
	// GoogleCredentials is a Google service account's key (its JSON, as
	// Google gives it): the deployment's calls carry the OAuth tokens it
	// signs for (Vertex AI), not APIKey.
	GoogleCredentials Secret
	// GoogleMetadata, when set (and GoogleCredentials not), is the
	// metadata server whose service account's tokens the calls carry
	// (GCE, GKE's workload identity, Cloud Run).
	GoogleMetadata string
	// Entra, when set, gives the deployment's calls Microsoft Entra ID
	// (Azure AD) tokens, as Authorization: Bearer, in place of APIKey
	// (Azure OpenAI, Azure AI Foundry).
	Entra *Entra
	// Bedrock, when set, makes this Claude on Amazon Bedrock: its calls go
	// to the model's InvokeModel API, and are signed with Bedrock.Key
	// unless APIKey (a Bedrock API key) is set.
	Bedrock *Bedrock
	// SageMaker, when set, makes this a SageMaker endpoint's deployment:
	// its chat calls go to the endpoint's invocations, signed.
	SageMaker *SageMaker
	// Watsonx, when set, makes this an IBM watsonx.ai deployment: its
	// chat calls go to watsonx.ai's chat API, with IBM Cloud IAM tokens.
	Watsonx *Watsonx
	// Budget, when set, is the deployment's own spend limit (LiteLLM's
	// max_budget over budget_duration).
	Budget *Budget
	// Weight biases simple-shuffle, as in LiteLLM: litellm_params.weight,
	// else rpm, else tpm. 0 means none set.
	Weight float64
	// RPM and TPM are LiteLLM's requests and tokens per minute for the
	// deployment (0: none). They are limits only when
	// Router.EnforceRateLimits is set. RPMKey and TPMKey are where the
	// config set them (in litellm_params, or beside it), for messages.
	RPM, TPM       float64
	RPMKey, TPMKey string
	// MaxInputTokens is the model's context window for its input
	// (max_input_tokens, in model_info or litellm_params, else the
	// built-in table); 0 when unknown.
	MaxInputTokens int
	// Prices in USD per token, from the config or the built-in table.
	// CacheReadCostPerToken and CacheWriteCostPerToken are those of the
	// prompt tokens read from the provider's prompt cache and written to
	// it: cache_read_input_token_cost and cache_creation_input_token_cost,
	// else the table's when the input price is the table's too, else the
	// input price.
	InputCostPerToken      float64
	OutputCostPerToken     float64
	CacheReadCostPerToken  float64
	CacheWriteCostPerToken float64
	// CacheWriteHourCostPerToken prices the prompt tokens written to
	// Anthropic's 1-hour cache (cache_control's ttl "1h"): LiteLLM's
	// cache_creation_input_token_cost_above_1hr, else, for a Claude
	// model, twice its input price (Anthropic's), else
	// CacheWriteCostPerToken.
	CacheWriteHourCostPerToken float64
	// BatchInputCostPerToken and BatchOutputCostPerToken price a batch's
	// tokens (the Batch API's): input_cost_per_token_batches and
	// output_cost_per_token_batches, else half the prices above, as
	// OpenAI, Azure OpenAI and Anthropic price their batches.
	BatchInputCostPerToken  float64
	BatchOutputCostPerToken float64
	// LongContext prices the calls of long prompts, by threshold, lowest
	// first: a call whose input passes a tier's Above is priced, all its
	// tokens, at the tier of the highest threshold it passes (GPT-5.4
	// and 5.5 past 272K input tokens, Gemini's Pro models and Claude
	// Sonnet 4 and 4.5 past 200K). From LiteLLM's
	// input_cost_per_token_above_200k_tokens and its kin, else the
	// built-in table's where the deployment's prices are the table's.
	LongContext []PriceTier
	// ServiceTiers prices the calls an upstream says a service tier
	// served (OpenAI's "flex" and "priority"), by its name: LiteLLM's
	// input_cost_per_token_flex, output_cost_per_token_priority and kin
	// (each price the deployment's own where not set). A flex call
	// without configured prices costs the batch prices (Cost).
	ServiceTiers map[string]PriceTier
	// USOnlyPrice is the multiple of its prices a call US-only inference
	// served costs (Anthropic's inference_geo "us": 1.1 at Claude 4.6 and
	// later); 0 for a model without it.
	USOnlyPrice float64
	// AlwaysDrop are the request parameters left out of every request to
	// the deployment (LiteLLM's additional_drop_params), whether or not
	// its provider takes them.
	AlwaysDrop []string
	// Headers are litellm_params' headers and extra_headers, by their
	// canonical names: sent with every upstream call, after breakerd's
	// own (so a configured Authorization wins). No value is printed.
	Headers map[string]Secret
	// HeaderSecrets are the values of Headers that are also scrubbed from
	// upstream messages: those of credential names (Authorization,
	// X-Api-Key, ...) and those read from the environment. Others (an
	// HTTP-Referer of http://127.0.0.1) would mangle ordinary text.
	HeaderSecrets []Secret
	// Priced reports whether the config or the built-in table gives the
	// deployment a price. least-cost tries unpriced deployments after
	// the priced ones: an unknown price is not a free one.
	Priced bool
	// FetchPrivateURLs is server.fetch_private_urls, for the images and
	// documents this deployment's requests name by URL.
	FetchPrivateURLs bool
	// StreamUsage is whether a chat stream to an OpenAI-dialect
	// deployment asks for its usage when the client did not
	// (always_include_stream_usage).
	StreamUsage StreamUsage
	// DefaultMaxTokens is sent to providers that require max_tokens
	// (Anthropic) when the client gives none.
	DefaultMaxTokens int
	// Index is the entry's position in model_list.
	Index int
}

// Bedrock is where and how an Amazon Bedrock deployment is called.
type Bedrock struct {
	// ModelID is the model in the call's URL: a model's or an inference
	// profile's ID, or an ARN.
	ModelID string
	// Converse has calls go to the model's Converse API, which serves
	// every chat model on Bedrock, in place of InvokeModel, which serves
	// Claude with Anthropic's Messages.
	Converse bool
	// Guardrail, when set, checks every call's prompt and answer.
	Guardrail *Guardrail
	AWSAuth
}

// Guardrail is a Bedrock guardrail: its ID (or ARN), its version (a
// number, or DRAFT), and whether its trace is enabled.
type Guardrail struct {
	ID, Version, Trace string
}

// SageMaker is where a SageMaker endpoint serving OpenAI's chat API (a
// TGI or LMI container's Messages API) is called, and how.
type SageMaker struct {
	Endpoint string
	AWSAuth
}

// AWSAuth is the region an AWS service is called in, and the key that
// signs its calls (Signature Version 4): the key given, or one assumed
// from Role or served by Container. With Role, Key (when set) is the one
// that assumes the role. A Bedrock deployment with an API key
// (Deployment.APIKey) signs nothing.
type AWSAuth struct {
	Region    string
	Key       AWSKey
	Role      *AWSRole
	Container *AWSContainer
	// Instance, when set, has the keys come from the EC2 instance's role,
	// through its metadata service (IMDSv2) at this address: what AWS's
	// SDKs fall back to when nothing else gives a key.
	Instance string
}

// AWSRole is an IAM role assumed through AWS STS: with an access key
// (AssumeRole, signed with Bedrock.Key), or with a web identity's token
// (AssumeRoleWithWebIdentity, as EKS's IAM roles for service accounts
// do), given or read from a file at each renewal (the file rotates).
type AWSRole struct {
	ARN, SessionName     string
	WebIdentityToken     Secret
	WebIdentityTokenFile string
	// WebIdentityURL, when set, is where the token is asked for at each
	// renewal (oidc/google/, oidc/github/).
	WebIdentityURL *TokenURL
	// STSEndpoint is where the role is assumed:
	// https://sts.<region>.amazonaws.com unless set.
	STSEndpoint string
}

// AWSContainer is the endpoint that serves a container's AWS keys (ECS,
// EKS Pod Identity), and the token it wants: given, or read from a file
// at each renewal.
type AWSContainer struct {
	URI       string
	Token     Secret
	TokenFile string
}

// AWSKey is an AWS access key, and the session token that comes with a
// temporary one.
type AWSKey struct {
	ID, Secret, SessionToken Secret
}

// Secrets returns the deployment's secrets that could appear in an
// upstream's messages, to be scrubbed from them: its key, its secret
// headers' values and its AWS key.
func (d Deployment) Secrets() []Secret {
	out := append([]Secret{d.APIKey}, d.HeaderSecrets...)
	if a := d.AWSAuth(); a != nil {
		out = append(out, a.Key.ID, a.Key.Secret, a.Key.SessionToken)
		if a.Role != nil {
			out = append(out, a.Role.WebIdentityToken)
			out = append(out, a.Role.WebIdentityURL.secrets()...)
		}
		if a.Container != nil {
			out = append(out, a.Container.Token)
		}
	}
	if k, err := ParseGoogleKey(d.GoogleCredentials); err == nil {
		out = append(out, k.Secrets()...)
	}
	if e := d.Entra; e != nil {
		out = append(out, e.Token, e.ClientSecret, e.Assertion, e.Password, e.IdentityHeader)
		out = append(out, e.AssertionURL.secrets()...)
	}
	if w := d.Watsonx; w != nil {
		out = append(out, w.Token, w.ZenAPIKey)
	}
	return out
}

// Entra is where a deployment's Microsoft Entra ID tokens come from: a
// token given as it is, one the tenant's token endpoint grants (for a
// client's secret, a federated token or a user's password), or one from
// the machine's managed identity. Granted tokens are renewed before
// they expire.
type Entra struct {
	// Token is a token given as it is (azure_ad_token): never renewed.
	Token Secret
	// TokenURL is the tenant's token endpoint
	// (<authority>/<tenant>/oauth2/v2.0/token). It grants ClientID a
	// token for ClientSecret, for the federated token Assertion (or the
	// one in AssertionFile, read at each renewal, as it rotates), or for
	// Username's Password, whichever is set.
	TokenURL      string
	ClientID      string
	ClientSecret  Secret
	Assertion     Secret
	AssertionFile string
	// AssertionURL, when set, is where the federated token is asked for
	// at each renewal (oidc/google/, oidc/github/).
	AssertionURL *TokenURL
	// Certificate, when set, signs the assertion ClientID's token is
	// granted for (a client certificate's credential).
	Certificate *EntraCertificate
	Username    string
	Password    Secret
	// ManagedIdentity, when set, is the endpoint of the machine's managed
	// identity: the instance metadata service's, or App Service's and
	// Container Apps' ($IDENTITY_ENDPOINT), which wants IdentityHeader.
	// ClientID, when set, picks a user-assigned identity.
	ManagedIdentity string
	IdentityHeader  Secret
	// AzureCLI, when set, is the Azure CLI (az) whose signed-in user's
	// tokens the calls carry (`az account get-access-token`), for Tenant
	// when set.
	AzureCLI, Tenant string
	// Scope is what tokens are asked for: Azure AI services'
	// (EntraScope) unless $AZURE_SCOPE names another.
	Scope string
	// How says where the tokens come from, for check-config and errors.
	How string
}

// EntraCertificate is an app's client certificate: its key signs the
// assertions that ask for the app's tokens, and Thumbprint (the
// certificate's SHA-1, as Entra ID names it in the assertion's x5t)
// says which of the app's certificates it is.
type EntraCertificate struct {
	Key        *rsa.PrivateKey
	Thumbprint []byte
}

// EntraScope is the scope of Azure OpenAI's and Azure AI Foundry's
// tokens.
const EntraScope = "https://cognitiveservices.azure.com/.default"

// AWSAuth returns how the deployment's calls to an AWS service (Bedrock,
// SageMaker) are signed; nil for another provider's.
func (d Deployment) AWSAuth() *AWSAuth {
	switch {
	case d.Bedrock != nil:
		return &d.Bedrock.AWSAuth
	case d.SageMaker != nil:
		return &d.SageMaker.AWSAuth
	}
	return nil
}

// PublicBase is the deployment's api_base without what may hide a
// credential (user info, query, fragment), and "" when its key is in the
// path: what may be shown (LiteLLM's api_base label, /model/info).
func (d Deployment) PublicBase() string {
	u, err := url.Parse(d.APIBase)
	if err != nil || u.Host == "" {
		return ""
	}
	base := u.Scheme + "://" + u.Host + u.Path
	if key := d.APIKey.Value(); len(key) >= 6 && strings.Contains(base, key) {
		return ""
	}
	return base
}

// FileStoreGroup is the model group of FileStores, in metrics and logs.
const FileStoreGroup = "files_settings"

// MissingKey returns the environment variable the deployment's key would
// have come from, when it calls its provider's own hosted API (the
// provider's default api_base) with no key in any form: each of its calls
// will be refused (401). "" otherwise. A config loads with such a
// deployment, as LiteLLM starts with it; this is for saying so.
func (d Deployment) MissingKey() string {
	info, ok := LookupProvider(d.Provider)
	local := strings.HasPrefix(info.BaseURL, "http://localhost") || strings.HasPrefix(info.BaseURL, "http://127.0.0.1") // a server on the machine takes calls without one
	if !ok || local || info.KeyEnv == "" || info.BaseURL == "" || d.APIBase != strings.TrimRight(info.BaseURL, "/") ||
		d.APIKey.Value() != "" || d.Entra != nil || d.AWSAuth() != nil {
		return ""
	}
	for name := range d.Headers {
		if slices.ContainsFunc(append([]string{"Authorization", "Api-Key", "X-Api-Key", d.KeyHeader}, info.KeyHeaders...),
			func(h string) bool { return strings.EqualFold(h, name) }) {
			return ""
		}
	}
	if len(info.MoreKeyEnvs) > 0 {
		return info.KeyEnv + " (nor $" + strings.Join(info.MoreKeyEnvs, ", $") + ")"
	}
	return info.KeyEnv
}

// KeyWarnings say which deployments call their provider's hosted API
// with no key (Deployment.MissingKey), for the log at startup and
// check-config: a forgotten variable shows before the first 401.
func (c *Config) KeyWarnings() []string {
	var out []string
	for _, d := range slices.Concat(c.Deployments, c.FileStores) {
		if env := d.MissingKey(); env != "" {
			out = append(out, fmt.Sprintf("deployment %s: %s's API needs a key, and it has no api_key and $%s is not set: its calls will be refused (401)",
				d.Name, d.Provider, env))
		}
	}
	return out
}

// Labels returns the deployment's labels, as used on metrics and spans.
func (d Deployment) Labels() map[string]string {
	return map[string]string{"provider": d.Provider, "model": d.Model, "model_group": d.Group, "deployment": d.Name}
}

// Attempt timeouts when the config sets none. A hang is the commonest
// shape of an LLM outage, so no attempt waits forever by default. Streams
// show life at once (headers, then a first event within seconds, even
// from reasoning models, which stream their thinking or keep-alives), so
// their bound is short; a non-streaming answer from a reasoning model can
// legitimately take minutes, so its bound is long.
// A local model server (ProviderInfo.LoadsModels) may first load a
// model's weights, which takes up to a minute or two: its streams' wait
// for their first chunk is LocalStreamTimeout, unless a stream_timeout or
// ttft_timeout is set.
const (
	DefaultTimeout       = 5 * time.Minute
	DefaultStreamTimeout = 20 * time.Second
	LocalStreamTimeout   = 2 * time.Minute
)

// MinRedactLen is the length of the shortest secret that breakerd scrubs
// from upstream text; shorter values would mangle ordinary words. The
// config warns about API keys shorter than this.
const MinRedactLen = 6

// Secret is a value that must never be printed. Its String and
// MarshalText show only whether it is set.
type Secret string

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

// MarshalText redacts the secret in JSON and YAML output.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Value returns the secret itself, for the one place that sends it.
func (s Secret) Value() string { return string(s) }

// GroupStrategy is a model group's own routing strategy, with its
// lowest_latency_buffer (Router.LatencyBuffer).
type GroupStrategy struct {
	Strategy      string
	LatencyBuffer float64
}

// StrategyOf returns the strategy group routes its deployments by: its
// own (GroupStrategies), else the router's.
func (r Router) StrategyOf(group string) GroupStrategy {
	if s, ok := r.GroupStrategies[group]; ok {
		return s
	}
	return GroupStrategy{Strategy: r.Strategy, LatencyBuffer: r.LatencyBuffer}
}

// Router holds router_settings.
type Router struct {
	Strategy string // simple-shuffle, least-cost, ordered
	// ForceIPv4 makes every upstream connection over IPv4 (LiteLLM's
	// litellm_settings.force_ipv4, for hosts whose IPv6 route fails); it
	// applies at start.
	ForceIPv4 bool
	// StreamCost has a chat stream's usage chunk carry the call's cost in
	// US dollars (usage.cost), for a deployment with a price: LiteLLM's
	// litellm_settings.include_cost_in_streaming_usage. A stream has no
	// x-litellm-response-cost header: its cost is known only at its end.
	StreamCost bool
	// LatencyBuffer is LiteLLM's lowest_latency_buffer for
	// latency-based-routing: deployments within this fraction of the
	// fastest are picked among at random (0: always the fastest).
	LatencyBuffer float64
	// ContinueStreams has a chat, Messages or Responses stream that
	// breaks after its first chunk go on at the route's next deployment,
	// which is asked to continue the text the client already has
	// (LiteLLM's mid-stream fallback); off, the client gets an error
	// event. On by default.
	ContinueStreams bool
	// GroupStrategies are the model groups that route their deployments
	// by a strategy of their own (LiteLLM's routing_groups); any other
	// group routes by Strategy and LatencyBuffer. StrategyOf says which.
	GroupStrategies map[string]GroupStrategy
	NumRetries      int
	Timeout         time.Duration // whole-request deadline
	RetryBackoff    time.Duration // first retry delay; doubles, with jitter
	MaxRetryBackoff time.Duration
	// Fallbacks maps a group to the groups tried after it, in order. Each
	// of the three fallback maps holds at most MaxFallbacks groups per
	// group.
	Fallbacks map[string][]string
	// MaxFallbacks bounds how many fallback groups one request tries
	// (LiteLLM's max_fallbacks, 5 by default as there).
	MaxFallbacks int
	// ContextWindowFallbacks maps a group to the groups tried when its
	// model refuses a prompt as too long (LiteLLM's
	// context_window_fallbacks).
	ContextWindowFallbacks map[string][]string
	// ContentPolicyFallbacks maps a group to the groups tried when its
	// provider refuses a prompt by its content policy (LiteLLM's
	// content_policy_fallbacks).
	ContentPolicyFallbacks map[string][]string
	// Aliases are other names clients may use for a group (LiteLLM's
	// model_group_alias).
	Aliases  map[string]Alias
	Breaker  BreakerConfig
	Bulkhead Bulkhead
	// State says where breaker state lives: "local" (default) or "redis".
	State string
	Redis Redis
	// EnforceRateLimits makes deployments' RPM and TPM limits: a
	// deployment that has used its minute's share is passed over
	// (LiteLLM's enable_pre_call_checks, or optional_pre_call_checks with
	// enforce_model_rate_limits).
	EnforceRateLimits bool
	// Affinity keeps a session's requests (or a client key's) on the
	// deployment of their group that last served them, for as long as its
	// circuit lets them through (LiteLLM's optional_pre_call_checks
	// session_affinity and deployment_affinity); GroupAffinity is a
	// group's own in place of it (model_group_affinity_config). A pin
	// lasts AffinityTTL after its last use.
	Affinity      Affinity
	GroupAffinity map[string]Affinity
	AffinityTTL   time.Duration
	// TagFiltering is LiteLLM's tag routing (enable_tag_filtering): a
	// request's tags (its tags parameter, or x-litellm-tags) pick the
	// deployments with those tags (TagsMatchAll: all of them; else any),
	// those tagged "default" when none has them; an untagged request
	// goes to those tagged "default" when there are some.
	TagFiltering, TagsMatchAll bool
	// ProxyBudget, when set, limits what every deployment together may
	// cost (LiteLLM's litellm_settings.max_budget over budget_duration):
	// once spent, every request gets 429 budget_exceeded until its window
	// ends.
	ProxyBudget *Budget
	// TagBudgets are spend limits per request tag (LiteLLM's
	// litellm_settings.tag_budget_config): the answered calls of requests
	// with a tag count against its budget, and once it is spent such a
	// request gets 429 budget_exceeded until its window ends.
	TagBudgets map[string]Budget
	// ProviderBudgets are spend limits per provider (LiteLLM's
	// provider_budget_config): a provider that has spent its budget has
	// its deployments passed over until the budget's window ends.
	ProviderBudgets map[string]Budget
	// ContextWindowCheck passes over the deployments whose MaxInputTokens
	// a request's prompt is over, before any call (LiteLLM's other
	// enable_pre_call_checks check); with none of the group's own left,
	// the request goes to its context_window_fallbacks.
	ContextWindowCheck bool
	// ForwardHeaders are the model names (a trailing * matches a
	// prefix; "*" every one) whose requests carry their client's x-
	// headers (not x-stainless-*, x-amz-* or a key) and anthropic-beta
	// to the upstream, LiteLLM's forward_client_headers_to_llm_api; and
	// ForwardOpenAIOrg adds OpenAI-Organization (forward_openai_org_id).
	ForwardHeaders   []string
	ForwardOpenAIOrg bool
}

// Affinity says what keeps requests on one deployment of their group.
type Affinity struct {
	// Session pins by the request's session id (x-litellm-session-id,
	// Claude Code's x-claude-code-session-id, metadata.session_id, ...).
	Session bool
	// Key pins by the client's API key.
	Key bool
	// Prompt pins by the cached part of the prompt: the messages (and
	// system, tools) up to the last cache_control marker, when they are
	// long enough to be cached (LiteLLM's prompt_caching check).
	Prompt bool
}

// Alias is another name for a model group.
type Alias struct {
	Group string
	// Hidden aliases work but are not listed by GET /v1/models.
	Hidden bool
	// Then are the groups tried after Group's route, in order (an auto
	// router's other groups), before any the request names.
	Then []string
	// Complexity, for LiteLLM's complexity router, starts each request at
	// the groups of its prompt's tier; Group and Then follow. nil for
	// another alias.
	Complexity *ComplexityRouter
}

// ComplexityRouter is LiteLLM's complexity router
// (auto_router/complexity_router): its scorer, and the groups each tier
// names.
type ComplexityRouter struct {
	Scorer complexity.Config
	// Tiers are the groups of each tier (complexity_router_config.tiers),
	// by complexity.Tier, as breakerd serves them.
	Tiers [4][]string
}

// Redis configures shared breaker state (router_settings.state: redis).
type Redis struct {
	// Addr is host:port; URL, when set, is a redis:// URL instead.
	Addr     string
	Username string
	Password Secret
	URL      Secret
	// TLS connects over TLS (rediss:// in a URL says so too).
	TLS bool
	// MasterName and Sentinels, when set, find the server through Redis
	// Sentinel (LiteLLM's service_name and sentinel_nodes, host:port
	// each), which SentinelPassword opens; ClusterNodes, when set, are a
	// Redis Cluster's startup nodes (redis_startup_nodes). Shared state
	// reads them from router_settings.cache_kwargs (startup_nodes there).
	MasterName       string
	Sentinels        []string
	SentinelPassword Secret
	ClusterNodes     []string
	// DB is the database number (LiteLLM's redis_db; a redis_url names
	// its own, and a Redis Cluster has only 0).
	DB int
	// Namespace prefixes every key, so gateways can share one Redis.
	Namespace string
	// FlushInterval is how often outcomes are sent (100-250ms).
	FlushInterval time.Duration
}

// OperationNames are the kinds of call a deployment has a breaker each
// for (provider.Operations, chat first): the keys of
// circuit_breaker.operations.
var OperationNames = []string{"chat", "embeddings", "transcriptions", "speech", "images", "moderations", "realtime", "rerank", "videos"}

// BreakerConfig is the circuit_breaker block.
type BreakerConfig struct {
	Enabled bool
	// Settings are the breaker settings for every (deployment, operation)
	// breaker; Name, Labels and Clock are set by the gateway.
	Settings breaker.Settings
	// Operations overrides Settings per operation (OperationNames).
	Operations        map[string]breaker.Settings
	Conditions        FailureConditions
	RespectRetryAfter bool
	// StreamFailureRate opens a deployment's breaker when at least this
	// share of its last StreamWindow streams broke or stalled after their
	// first chunk, once StreamMinimumCalls streams have ended (0: off).
	// Streams get their own count because the consecutive-failure count
	// is reset by every successful call, streaming or not: a provider
	// that breaks most streams but answers short calls would never trip.
	StreamFailureRate  float64
	StreamMinimumCalls int
	// FromLiteLLM says how LiteLLM's cooldown settings (allowed_fails,
	// cooldown_time, disable_cooldowns) were mapped onto the breaker, for
	// check-config; empty when none were.
	FromLiteLLM []string
}

// StreamWindow is how many of a deployment's latest streams the stream
// failure rate judges.
const StreamWindow = 20

// SettingsFor returns the breaker settings for an operation.
func (b BreakerConfig) SettingsFor(op string) breaker.Settings {
	if s, ok := b.Operations[op]; ok {
		return s
	}
	return b.Settings
}

// Bulkhead configures the per-deployment wait queue; the concurrency limit
// is each deployment's max_parallel_requests.
type Bulkhead struct {
	MaxQueue int
	MaxWait  time.Duration
}

// FailureConditions decide which upstream errors count against a breaker.
type FailureConditions struct {
	// Statuses that count. Empty means every 5xx.
	Statuses []int
	// Timeout: an attempt that times out counts (default true).
	Timeout bool
	// RateLimit: a 429 counts (default false).
	RateLimit bool
	// Auth: a 401 or 403 counts (default true: a revoked key is an outage).
	Auth bool
}

// Counts reports whether an upstream response with this status counts as
// a breaker failure. 400, 404 and 422 never count: they are the client's.
// Anthropic's 529 (overloaded) always counts.
func (f FailureConditions) Counts(status int) bool {
	switch {
	case status == 529:
		return true
	case status == 429:
		return f.RateLimit
	case status == 401 || status == 403:
		return f.Auth
	case status < 500:
		return false
	case len(f.Statuses) == 0:
		return true
	}
	for _, s := range f.Statuses {
		if s == status {
			return true
		}
	}
	return false
}

// Error is a configuration error at a position in a file.
type Error struct {
	File         string
	Line, Column int
	Key          string
	Msg          string
}

// Error formats as file:line:col: key: message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Load reads and validates the config file at path, resolving
// os.environ/NAME and ${NAME} references from the process environment.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse validates config data. name is used in error messages, and the
// files LiteLLM's include names are read relative to its directory;
// lookupEnv resolves environment references, and the file's
// environment_variables block (LiteLLM's) answers those it does not. All
// errors found are returned together.
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	return parse(name, data, lookupEnv, os.ReadFile)
}

// parse is Parse with the included files read by readFile.
func parse(name string, data []byte, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	// PyYAML, which LiteLLM uses, keeps the last of duplicate keys; the
	// walker warns about each.
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, yamlError(name, err)
	}
	src := &sources{main: name}
	// Every problem is reported at once, in line order: unknown keys do
	// not hide the rest.
	var errs []error
	if len(f.Docs) > 0 {
		if body, ok := f.Docs[0].Body.(*ast.MappingNode); ok {
			src, errs = mergeIncludes(name, body, readFile)
		}
	}
	w := &walker{src: src, pos: map[string]*token.Position{}, byPos: map[string]string{}}
	var raw rawFile
	c := &converter{src: src, pos: w.pos, env: lookupEnv, readFile: readFile, dir: filepath.Dir(name)}
	if len(f.Docs) > 0 && f.Docs[0].Body != nil {
		w.walk(f.Docs[0], reflect.TypeFor[rawFile](), "")
		w.finish()
		errs = append(errs, w.errs...)
		// LiteLLM's environment_variables block answers references too,
		// but a variable set in the process environment wins.
		var block struct {
			Vars map[string]string `yaml:"environment_variables"`
		}
		_ = decodeNode(name, f.Docs[0].Body, &block) // a bad block is reported below
		if len(block.Vars) > 0 {
			c.env = func(k string) (string, bool) {
				if v, ok := lookupEnv(k); ok {
					return v, true
				}
				v, ok := block.Vars[k]
				return v, ok
			}
		}
		c.resolveScalars(w.refs)
		if err := decodeNode(name, f.Docs[0].Body, &raw); err != nil {
			e := yamlError(name, err)
			if ce, ok := e.(*Error); ok {
				ce.Key = w.byPos[fmt.Sprintf("%d:%d", ce.Line, ce.Column)]
				if pos := w.pos[ce.Key]; pos != nil {
					ce.File = src.errorAt(pos, "", "").File
				}
			}
			return nil, sortedErrors(append(append(append(errs, c.errs...), e), w.misplaced...))
		}
	}
	c.warnings = w.warnings
	cfg := c.convert(&raw)
	if errs = append(errs, c.errs...); len(errs) > 0 {
		return nil, sortedErrors(append(errs, w.misplaced...))
	}
	cfg.Warnings = w.quiet(cfg.Warnings, c.leftOutAt)
	cfg.Path, cfg.Included = name, src.included
	return cfg, nil
}

// sortedErrors joins errs in line order (errors without a line first).
func sortedErrors(errs []error) error {
	line := func(e error) int {
		var ce *Error
		if errors.As(e, &ce) {
			return ce.Line*10000 + ce.Column
		}
		return 0
	}
	slices.SortStableFunc(errs, func(a, b error) int { return line(a) - line(b) })
	return errors.Join(errs...)
}

// decodeNode is yaml.NodeToValue with a guard: go-yaml has panicked on odd
// input before (a bare tag), and a config error must never crash the
// daemon, so a panic becomes an error that names the file.
func decodeNode(file string, n ast.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{File: file, Msg: fmt.Sprintf("the YAML decoder failed on this file (%v); check its tags and anchors", r)}
		}
	}()
	return yaml.NodeToValue(n, v, yaml.AllowDuplicateMapKey())
}

var typeErr = regexp.MustCompile(`cannot unmarshal (.+?) into Go (?:struct field \S+|value) of type (\S+)`)

func yamlKind(goType string) string {
	switch strings.TrimLeft(goType, "*[]") {
	case "int", "int64", "uint64":
		return "a whole number"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	}
	if strings.HasPrefix(goType, "[]") {
		return "a list"
	}
	return "a mapping"
}

// yamlError turns a go-yaml error into an Error with its position.
func yamlError(file string, err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		p := ye.GetToken().Position
		msg := ye.GetMessage()
		// go-yaml names Go types; say what the file should hold instead.
		if m := typeErr.FindStringSubmatch(msg); m != nil {
			got := m[1]
			if strings.HasPrefix(got, "[]") || strings.HasPrefix(got, "map[") {
				got = yamlKind(got) // a list or a mapping, not its Go type
			}
			msg = fmt.Sprintf("expected %s, got %s", yamlKind(m[2]), got)
		}
		return &Error{File: file, Line: p.Line, Column: p.Column, Msg: msg}
	}
	return &Error{File: file, Msg: err.Error()}
}

// StreamUsage says whether breakerd asks an OpenAI-dialect upstream for a
// chat stream's usage (stream_options.include_usage) when the client did
// not, so that its tokens are counted (metrics, spend, tpm limits), as
// LiteLLM does. The zero value is LiteLLM's default.
type StreamUsage uint8

const (
	// StreamUsageHidden asks for it and keeps the usage chunk, which the
	// client did not ask for, from the client.
	StreamUsageHidden StreamUsage = iota
	// StreamUsageShown asks for it and relays it to the client
	// (always_include_stream_usage: true).
	StreamUsageShown
	// StreamUsageOff does not ask (always_include_stream_usage: false):
	// such a stream's tokens are not counted.
	StreamUsageOff
)

// CachePoint marks messages of a chat request for Claude's prompt cache:
// every message of Role, or the one at Index (from the end when
// negative). Control is the cache_control to set, as JSON
// ({"type":"ephemeral"} unless the config gives one).
type CachePoint struct {
	Role    string
	Index   *int
	Control string
}

// TokenURL is where a federated token is asked for, at each use (such
// tokens expire within minutes): a GET of URL with Headers, whose answer
// is the token, or, with JSONField, that field of its JSON.
type TokenURL struct {
	URL       string
	Headers   map[string]Secret
	JSONField string
}

// secrets are u's header values (a bearer token, for one); none for nil.
func (u *TokenURL) secrets() []Secret {
	if u == nil {
		return nil
	}
	return slices.Collect(maps.Values(u.Headers))
}
