package config

// The raw schema mirrors the YAML file. Values whose YAML form varies (a
// duration as seconds or "30s", fallbacks as a list or a list of maps) are
// kept as `any` here and converted, with their position, in convert.go.

type rawFile struct {
	ModelList      []rawDeployment `yaml:"model_list"`
	RouterSettings rawRouter       `yaml:"router_settings"`
	Server         rawServer       `yaml:"server"`
	Logging        rawLogging      `yaml:"logging"`
	Health         rawHealth       `yaml:"health"`
	Admin          rawAdmin        `yaml:"admin"`
	General        rawGeneral      `yaml:"general_settings"`
	LiteLLM        rawLiteLLM      `yaml:"litellm_settings"`
	// EnvironmentVariables is LiteLLM's block of variables for
	// os.environ/NAME and ${NAME}; the process environment wins. Parse
	// reads it before the rest is decoded, since references in numbers
	// are resolved first; the field is here for the schema.
	EnvironmentVariables map[string]string `yaml:"environment_variables"`
	// CredentialList is LiteLLM's reusable credentials, which a
	// deployment names with litellm_params.litellm_credential_name.
	CredentialList []rawCredential `yaml:"credential_list"`
	// FilesSettings is LiteLLM's files_settings: the accounts where the
	// Files and Batch APIs keep an upload that names no model.
	FilesSettings []rawFilesSetting `yaml:"files_settings"`
}

// rawFilesSetting is one of LiteLLM's files_settings entries.
type rawFilesSetting struct {
	Provider   string `yaml:"custom_llm_provider"`
	APIBase    string `yaml:"api_base"`
	APIKey     string `yaml:"api_key"`
	APIVersion string `yaml:"api_version"`
}

// rawCredential is one of LiteLLM's credential_list entries.
type rawCredential struct {
	Name   string         `yaml:"credential_name"`
	Values rawCredValues  `yaml:"credential_values"`
	Info   map[string]any `yaml:"credential_info"` // a description; not read
}

// rawCredValues are the values of a credential that breakerd reads; the
// rest (cloud keys of providers breakerd does not call) are LiteLLM's.
type rawCredValues struct {
	APIKey     string `yaml:"api_key"`
	APIBase    string `yaml:"api_base"`
	APIVersion string `yaml:"api_version"`
	// LiteLLM's keys for Amazon Bedrock's credentials, as in rawParams.
	AWSAccessKeyID     string `yaml:"aws_access_key_id"`
	AWSSecretAccessKey string `yaml:"aws_secret_access_key"`
	AWSSessionToken    string `yaml:"aws_session_token"`
	AWSRegionName      string `yaml:"aws_region_name"`
	// AWSRuntimeEndpoint replaces the region's bedrock-runtime address
	// (a VPC endpoint, a proxy).
	AWSRuntimeEndpoint string `yaml:"aws_bedrock_runtime_endpoint"`
	// A profile of ~/.aws (which breakerd does not read), and a role to
	// assume (STS), by a key or a web identity's token.
	AWSProfileName      string `yaml:"aws_profile_name"`
	AWSRoleName         string `yaml:"aws_role_name"`
	AWSWebIdentityToken string `yaml:"aws_web_identity_token"`
	AWSSessionName      string `yaml:"aws_session_name"`
	AWSSTSEndpoint      string `yaml:"aws_sts_endpoint"`
	// LiteLLM's keys for Microsoft Entra ID (Azure AD) credentials,
	// Azure's in place of a key (azure.go).
	AzureADToken  string `yaml:"azure_ad_token"`
	TenantID      string `yaml:"tenant_id"`
	ClientID      string `yaml:"client_id"`
	ClientSecret  string `yaml:"client_secret"`
	AzureUsername string `yaml:"azure_username"`
	AzurePassword string `yaml:"azure_password"`
}

// rawLiteLLM is LiteLLM's litellm_settings, of which breakerd reads the
// defaults that router_settings and litellm_params refine.
type rawLiteLLM struct {
	NumRetries     *int `yaml:"num_retries"`
	RequestTimeout any  `yaml:"request_timeout"`
	// ForceIPv4 is LiteLLM's force_ipv4: upstream connections over IPv4.
	ForceIPv4 *bool `yaml:"force_ipv4"`
	// LiteLLM's reliability docs put fallbacks here; router_settings'
	// own win when both are set.
	Fallbacks              any      `yaml:"fallbacks"`
	ContextWindowFallbacks any      `yaml:"context_window_fallbacks"`
	ContentPolicyFallbacks any      `yaml:"content_policy_fallbacks"`
	DefaultFallbacks       []string `yaml:"default_fallbacks"`
	DropParams             *bool    `yaml:"drop_params"`
	// MaxBudget and BudgetDuration are LiteLLM's proxy-wide budget, and
	// TagBudgetConfig its budgets per request tag.
	MaxBudget       *float64             `yaml:"max_budget"`
	BudgetDuration  string               `yaml:"budget_duration"`
	TagBudgetConfig map[string]rawBudget `yaml:"tag_budget_config"`
	// LiteLLM's proxy docs put the cooldown settings here too; LiteLLM's
	// router reads allowed_fails from here when router_settings has none.
	AllowedFails *int `yaml:"allowed_fails"`
	CooldownTime any  `yaml:"cooldown_time"`
	// JSONLogs is LiteLLM's switch to JSON logs: logging.format: json,
	// unless logging.format is set.
	JSONLogs *bool `yaml:"json_logs"`
	// IncludeCostInStreamingUsage has a chat stream's usage carry the
	// call's cost (Router.StreamCost).
	IncludeCostInStreamingUsage *bool `yaml:"include_cost_in_streaming_usage"`
	// Cache and CacheParams are LiteLLM's response cache (config.Cache).
	Cache       *bool          `yaml:"cache"`
	CacheParams map[string]any `yaml:"cache_params"`
	// AlwaysIncludeStreamUsage is general_settings' own, where real
	// configs also put it; general_settings' wins.
	AlwaysIncludeStreamUsage *bool `yaml:"always_include_stream_usage"`
	// EnableAzureADTokenRefresh has Azure deployments with no key and no
	// Entra ID credential of their own take the environment's (azure.go).
	EnableAzureADTokenRefresh *bool `yaml:"enable_azure_ad_token_refresh"`
	// CustomProviderMap names LiteLLM's custom providers (Python
	// handlers): their deployments are left out, each with a warning
	// that says why.
	CustomProviderMap []rawCustomProvider `yaml:"custom_provider_map"`
	// Callbacks, SuccessCallback and FailureCallback name LiteLLM's
	// loggers: "prometheus" among them adds LiteLLM's metric names to
	// /metrics; breakerd runs none of the others.
	Callbacks       any `yaml:"callbacks"`
	SuccessCallback any `yaml:"success_callback"`
	FailureCallback any `yaml:"failure_callback"`
	// SSLVerify is every deployment's ssl_verify (tls.go).
	SSLVerify any `yaml:"ssl_verify"`
	// ModelGroupSettings holds the model names whose requests' headers
	// are forwarded (Router.ForwardHeaders).
	ModelGroupSettings struct {
		ForwardClientHeaders []string `yaml:"forward_client_headers_to_llm_api"`
	} `yaml:"model_group_settings"`
}

// rawCustomProvider is one of LiteLLM's custom_provider_map entries.
type rawCustomProvider struct {
	Provider      string `yaml:"provider"`
	CustomHandler string `yaml:"custom_handler"`
}

// rawGeneral is LiteLLM's general_settings, of which breakerd reads only
// the key clients must present.
type rawGeneral struct {
	MasterKey string `yaml:"master_key"`
	// GlobalMaxParallel is LiteLLM's cap on the proxy's requests in
	// flight: server.max_concurrent_requests, unless that is set.
	GlobalMaxParallel *int `yaml:"global_max_parallel_requests"`
	// MaxParallel is LiteLLM's default max_parallel_requests for each
	// deployment that sets none.
	MaxParallel *int `yaml:"max_parallel_requests"`
	// AlwaysIncludeStreamUsage is LiteLLM's switch for a stream's usage
	// (config.StreamUsage); litellm_settings may hold it too.
	AlwaysIncludeStreamUsage *bool `yaml:"always_include_stream_usage"`
	// LiteLLM's alerting: ["slack"] (to $SLACK_WEBHOOK_URL) or
	// ["webhook"] (to $WEBHOOK_URL), the alert_types sent, and
	// alert_to_webhook_url's Slack webhooks per alert type.
	Alerting          []string       `yaml:"alerting"`
	AlertTypes        []string       `yaml:"alert_types"`
	AlertToWebhookURL map[string]any `yaml:"alert_to_webhook_url"`
	// AlertingThreshold is LiteLLM's slow and hanging requests' threshold
	// (config.Alerting.SlowThreshold), in seconds.
	AlertingThreshold any `yaml:"alerting_threshold"`
	// LiteLLM's background health checks (config.Probes).
	BackgroundHealthChecks     *bool `yaml:"background_health_checks"`
	HealthCheckInterval        any   `yaml:"health_check_interval"`
	EnableHealthCheckRouting   *bool `yaml:"enable_health_check_routing"`
	HealthCheckIgnoreTransient *bool `yaml:"health_check_ignore_transient_errors"`
	// HealthCheckModelGroups limits the checks to these model_names
	// (LiteLLM's background_health_check_model_groups).
	HealthCheckModelGroups []string `yaml:"background_health_check_model_groups"`
	// PassThrough are LiteLLM's pass_through_endpoints (config.PassThrough).
	PassThrough []rawPassThrough `yaml:"pass_through_endpoints"`
	// LiteLLM's client header forwarding (Router.ForwardHeaders): every
	// model's requests, the OpenAI-Organization header too, and the
	// client's provider keys (which breakerd does not forward).
	ForwardClientHeaders *bool `yaml:"forward_client_headers_to_llm_api"`
	ForwardOpenAIOrg     *bool `yaml:"forward_openai_org_id"`
	ForwardProviderAuth  *bool `yaml:"forward_llm_provider_auth_headers"`
	// LiteLLM's route controls (Server.AllowedRoutes, PublicRoutes), of
	// which admin_only_routes names LiteLLM's key management routes.
	AllowedRoutes   []string `yaml:"allowed_routes"`
	PublicRoutes    []string `yaml:"public_routes"`
	AdminOnlyRoutes []string `yaml:"admin_only_routes"`
	// LiteLLM's client address allowlist (Server.AllowedIPs), and whether
	// the address is X-Forwarded-For's (Server.ForwardedFor).
	AllowedIPs       []string `yaml:"allowed_ips"`
	UseXForwardedFor *bool    `yaml:"use_x_forwarded_for"`
	// MaxRequestSizeMB is LiteLLM's body limit: server.max_body_bytes,
	// unless that is set.
	MaxRequestSizeMB *float64 `yaml:"max_request_size_mb"`
}

// rawPassThrough is one of LiteLLM's pass_through_endpoints.
type rawPassThrough struct {
	Path           string         `yaml:"path"`
	Target         string         `yaml:"target"`
	Headers        map[string]any `yaml:"headers"`
	ForwardHeaders *bool          `yaml:"forward_headers"`
	IncludeSubpath *bool          `yaml:"include_subpath"`
	Auth           *bool          `yaml:"auth"`
}

type rawHealth struct {
	Policy             string   `yaml:"policy"`
	OpenFraction       *float64 `yaml:"open_fraction"`
	UnroutableFraction *float64 `yaml:"unroutable_fraction"`
	CriticalGroups     []string `yaml:"critical_groups"`
}

type rawAdmin struct {
	Token  string `yaml:"token"`
	Listen string `yaml:"listen"`
}

type rawDeployment struct {
	ModelName string    `yaml:"model_name"`
	Params    rawParams `yaml:"litellm_params"`
	// LiteLLM also reads rpm and tpm beside litellm_params; there they
	// apply when litellm_params sets none.
	RPM *float64 `yaml:"rpm"`
	TPM *float64 `yaml:"tpm"`
	// ModelInfo is LiteLLM's free-form model_info, of which breakerd
	// reads the prices; its other keys are LiteLLM's.
	ModelInfo rawModelInfo `yaml:"model_info"`
}

// rawModelInfo holds the keys of model_info that breakerd reads: the id,
// the prices LiteLLM's cost tracking docs put there, base_model, the
// model an Azure deployment (named freely) is priced as, and the mode.
type rawModelInfo struct {
	// ID is LiteLLM's deployment id: breakerd names the deployment (its
	// breakers, metrics and status) by it.
	ID                 string   `yaml:"id"`
	InputCostPerToken  *float64 `yaml:"input_cost_per_token"`
	OutputCostPerToken *float64 `yaml:"output_cost_per_token"`
	// CacheReadCostPerToken and CacheWriteCostPerToken price the prompt
	// tokens read from a provider's prompt cache and written to it.
	CacheReadCostPerToken  *float64 `yaml:"cache_read_input_token_cost"`
	CacheWriteCostPerToken *float64 `yaml:"cache_creation_input_token_cost"`
	// CacheWriteHourCostPerToken prices the tokens written to Anthropic's
	// 1-hour cache.
	CacheWriteHourCostPerToken *float64 `yaml:"cache_creation_input_token_cost_above_1hr"`
	// InputCostPerTokenBatches and OutputCostPerTokenBatches price the
	// tokens of a batch's requests (the Batch API's).
	InputCostPerTokenBatches  *float64 `yaml:"input_cost_per_token_batches"`
	OutputCostPerTokenBatches *float64 `yaml:"output_cost_per_token_batches"`
	BaseModel                 string   `yaml:"base_model"`
	// Mode is LiteLLM's kind of model (chat, embedding,
	// audio_transcription, ...).
	Mode string `yaml:"mode"`
	// MaxInputTokens is the model's context window for its input, which
	// enable_pre_call_checks checks prompts against.
	MaxInputTokens *int `yaml:"max_input_tokens"`
	// LiteLLM's per-deployment health check settings (config.Check).
	DisableBackgroundHealthCheck *bool          `yaml:"disable_background_health_check"`
	HealthCheckModel             string         `yaml:"health_check_model"`
	HealthCheckTimeout           any            `yaml:"health_check_timeout"`
	HealthCheckMaxTokens         *int           `yaml:"health_check_max_tokens"`
	HealthCheckSupportsMaxTokens *bool          `yaml:"health_check_supports_max_tokens"`
	HealthCheckParams            map[string]any `yaml:"health_check_params"`
	HealthCheckReasoningEffort   any            `yaml:"health_check_reasoning_effort"`
	// Keys holds all of model_info's keys, for the long-context prices
	// whose threshold is in their names (tierKey).
	Keys map[string]any `yaml:",inline"`
}

type rawParams struct {
	Model      string `yaml:"model"`
	APIKey     string `yaml:"api_key"`
	APIBase    string `yaml:"api_base"`
	APIVersion string `yaml:"api_version"`
	// CredentialName names a credential_list entry, whose values fill in
	// api_key, api_base and api_version where these are not set.
	CredentialName string `yaml:"litellm_credential_name"`
	Timeout        any    `yaml:"timeout"`
	StreamTimeout  any    `yaml:"stream_timeout"`
	// LiteLLM's stall timeouts for streams (Deployment.FirstChunkTimeout,
	// ChunkIdleTimeout); router_settings' apply where these are unset.
	TTFTTimeout         any  `yaml:"ttft_timeout"`
	StreamIdleTimeout   any  `yaml:"stream_idle_timeout"`
	MaxParallelRequests *int `yaml:"max_parallel_requests"`
	// NumRetries is LiteLLM's per-deployment num_retries: this
	// deployment's, in place of router_settings'.
	NumRetries                 *int     `yaml:"num_retries"`
	Order                      *int     `yaml:"order"`
	InputCostPerToken          *float64 `yaml:"input_cost_per_token"`
	OutputCostPerToken         *float64 `yaml:"output_cost_per_token"`
	CacheReadCostPerToken      *float64 `yaml:"cache_read_input_token_cost"`
	CacheWriteCostPerToken     *float64 `yaml:"cache_creation_input_token_cost"`
	CacheWriteHourCostPerToken *float64 `yaml:"cache_creation_input_token_cost_above_1hr"`
	InputCostPerTokenBatches   *float64 `yaml:"input_cost_per_token_batches"`
	OutputCostPerTokenBatches  *float64 `yaml:"output_cost_per_token_batches"`
	BaseModel                  string   `yaml:"base_model"`
	// Keys holds all of litellm_params' keys, for the long-context
	// prices whose threshold is in their names (tierKey).
	Keys map[string]any `yaml:",inline"`
	// MaxInputTokens is model_info's, where LiteLLM also takes it.
	MaxInputTokens *int `yaml:"max_input_tokens"`
	// Organization is OpenAI's organization, sent as the
	// OpenAI-Organization header.
	Organization string `yaml:"organization"`
	// Headers and ExtraHeaders are sent with each upstream call;
	// extra_headers' win, as in LiteLLM.
	Headers      map[string]any `yaml:"headers"`
	ExtraHeaders map[string]any `yaml:"extra_headers"`
	// CustomUserAgent is the User-Agent of the deployment's calls (for
	// keys a provider binds to a client, as Claude Code's); a User-Agent
	// in headers or extra_headers wins.
	CustomUserAgent string `yaml:"custom_user_agent"`
	// ExtraBody's keys are request defaults too: added to each request
	// that does not set them (think: true for an Ollama model).
	ExtraBody map[string]any `yaml:"extra_body"`
	// AdditionalDropParams are left out of every request to the
	// deployment (LiteLLM's additional_drop_params).
	AdditionalDropParams []string `yaml:"additional_drop_params"`
	// MergeReasoning is LiteLLM's merge_reasoning_content_in_choices.
	MergeReasoning *bool `yaml:"merge_reasoning_content_in_choices"`
	// CacheControlInjectionPoints are LiteLLM's: the messages of a chat
	// request to Claude marked for its prompt cache.
	CacheControlInjectionPoints []rawCachePoint `yaml:"cache_control_injection_points"`
	// Tags are LiteLLM's tag routing's tags (router_settings.enable_tag_filtering).
	Tags []string `yaml:"tags"`
	// Vertex AI's project and location, and the service account whose
	// key signs its calls' tokens: a file's path, the key's JSON, or the
	// key as a mapping.
	VertexProject  string `yaml:"vertex_project"`
	VertexLocation string `yaml:"vertex_location"`
	// RegionName is LiteLLM's region of a deployment (Deployment.Region).
	RegionName        string `yaml:"region_name"`
	VertexCredentials any    `yaml:"vertex_credentials"`
	// LiteLLM's keys for Amazon Bedrock's credentials, region and
	// address (also in a credential's values).
	AWSAccessKeyID      string `yaml:"aws_access_key_id"`
	AWSSecretAccessKey  string `yaml:"aws_secret_access_key"`
	AWSSessionToken     string `yaml:"aws_session_token"`
	AWSRegionName       string `yaml:"aws_region_name"`
	AWSRuntimeEndpoint  string `yaml:"aws_bedrock_runtime_endpoint"`
	AWSProfileName      string `yaml:"aws_profile_name"`
	AWSRoleName         string `yaml:"aws_role_name"`
	AWSWebIdentityToken string `yaml:"aws_web_identity_token"`
	AWSSessionName      string `yaml:"aws_session_name"`
	AWSSTSEndpoint      string `yaml:"aws_sts_endpoint"`
	// LiteLLM's keys for Microsoft Entra ID (Azure AD) credentials,
	// Azure's in place of a key (azure.go).
	AzureADToken  string `yaml:"azure_ad_token"`
	TenantID      string `yaml:"tenant_id"`
	ClientID      string `yaml:"client_id"`
	ClientSecret  string `yaml:"client_secret"`
	AzureUsername string `yaml:"azure_username"`
	AzurePassword string `yaml:"azure_password"`
	// IBM watsonx.ai's project (project_id, or watsonx_project) or
	// deployment space, and credentials in place of an IBM Cloud API key:
	// a bearer token, or a Cloud Pak for Data ZenApiKey (watsonx.go).
	ProjectID      string `yaml:"project_id"`
	WatsonxProject string `yaml:"watsonx_project"`
	SpaceID        string `yaml:"space_id"`
	Token          string `yaml:"token"`
	ZenAPIKey      string `yaml:"zen_api_key"`
	// ModelID is the model Bedrock is called with, where it differs from
	// the model (a provisioned throughput's or inference profile's ARN).
	ModelID string `yaml:"model_id"`
	// GuardrailConfig is a Bedrock guardrail every call is checked with
	// (guardrailIdentifier, guardrailVersion, trace), as LiteLLM's docs
	// write it.
	GuardrailConfig     *rawGuardrail `yaml:"guardrailConfig"`
	MaxTokens           *int          `yaml:"default_max_tokens"`
	HTTP2PriorKnowledge *bool         `yaml:"http2_prior_knowledge"`
	// SSLVerify is LiteLLM's ssl_verify (tls.go): false, or a CA bundle.
	SSLVerify any `yaml:"ssl_verify"`
	// LiteLLM's auto routers (model: auto_router/<kind>) name the model
	// groups each chooses among in these (autorouter.go).
	ComplexityRouterConfig       map[string]any `yaml:"complexity_router_config"`
	ComplexityRouterDefaultModel string         `yaml:"complexity_router_default_model"`
	AdaptiveRouterConfig         map[string]any `yaml:"adaptive_router_config"`
	OracleRouterConfig           map[string]any `yaml:"oracle_router_config"`
	AutoRouterDefaultModel       string         `yaml:"auto_router_default_model"`
	// LiteLLM's request defaults: applied to each request that does not
	// set them (requestDefaultKeys).
	Temperature      any `yaml:"temperature"`
	MaxTokensParam   any `yaml:"max_tokens"`
	MaxCompletion    any `yaml:"max_completion_tokens"`
	TopP             any `yaml:"top_p"`
	Seed             any `yaml:"seed"`
	Stop             any `yaml:"stop"`
	FrequencyPenalty any `yaml:"frequency_penalty"`
	PresencePenalty  any `yaml:"presence_penalty"`
	ResponseFormat   any `yaml:"response_format"`
	Thinking         any `yaml:"thinking"`
	ReasoningEffort  any `yaml:"reasoning_effort"`
	// DropParams is true or false, or (as some configs write it) a list
	// of parameters, read as additional_drop_params.
	DropParams any      `yaml:"drop_params"`
	Weight     *float64 `yaml:"weight"`
	// MaxBudget and BudgetDuration are LiteLLM's deployment budget: USD
	// spent on the deployment over the duration, past which it is passed
	// over.
	MaxBudget      *float64 `yaml:"max_budget"`
	BudgetDuration string   `yaml:"budget_duration"`
	RPM            *float64 `yaml:"rpm"`
	TPM            *float64 `yaml:"tpm"`
}

// rawGuardrail is a Bedrock guardrail, in Bedrock's own names.
type rawGuardrail struct {
	Identifier string `yaml:"guardrailIdentifier"`
	Version    string `yaml:"guardrailVersion"`
	Trace      string `yaml:"trace"`
}

// rawBudget is one of LiteLLM's budgets, under either of its names.
type rawBudget struct {
	BudgetLimit    *float64 `yaml:"budget_limit"`
	MaxBudget      *float64 `yaml:"max_budget"`
	TimePeriod     string   `yaml:"time_period"`
	BudgetDuration string   `yaml:"budget_duration"`
}

// rawRoutingGroup is one of LiteLLM's routing_groups: the model groups
// (models) that route by a strategy of their own.
type rawRoutingGroup struct {
	GroupName           string         `yaml:"group_name"`
	Models              []string       `yaml:"models"`
	RoutingStrategy     string         `yaml:"routing_strategy"`
	RoutingStrategyArgs map[string]any `yaml:"routing_strategy_args"`
}

type rawRouter struct {
	RoutingStrategy string `yaml:"routing_strategy"`
	// CacheResponses is LiteLLM's Router switch for its response cache:
	// litellm_settings.cache, unless that is set.
	CacheResponses *bool `yaml:"cache_responses"`
	// CachingGroups are LiteLLM's caching_groups: lists of model groups
	// that share the response cache (Cache.Groups), each a list or, as
	// LiteLLM's Python tuples are written, a string "(a, b)".
	CachingGroups []any `yaml:"caching_groups"`
	// ContinueBrokenStreams is breakerd's switch for continuing a chat
	// stream that breaks mid-way at the route's next deployment
	// (Router.ContinueStreams); on unless false.
	ContinueBrokenStreams *bool `yaml:"continue_broken_streams"`
	// DefaultLiteLLMParams are LiteLLM Router's request defaults for
	// every deployment (routerDefaults).
	DefaultLiteLLMParams map[string]any `yaml:"default_litellm_params"`
	// LiteLLM's routing_strategy_args; breakerd reads lowest_latency_buffer.
	RoutingStrategyArgs map[string]any `yaml:"routing_strategy_args"`
	// RoutingGroups are LiteLLM's per-model strategies
	// (Router.GroupStrategies).
	RoutingGroups []rawRoutingGroup `yaml:"routing_groups"`
	NumRetries    *int              `yaml:"num_retries"`
	Timeout       any               `yaml:"timeout"`
	StreamTimeout any               `yaml:"stream_timeout"`
	// LiteLLM's stall timeouts, every deployment's where it sets none.
	TTFTTimeout       any `yaml:"ttft_timeout"`
	StreamIdleTimeout any `yaml:"stream_idle_timeout"`
	RetryBackoff      any `yaml:"retry_backoff"`
	MaxRetryBackoff   any `yaml:"max_retry_backoff"`
	Fallbacks         any `yaml:"fallbacks"`
	// LiteLLM's context_window_fallbacks: where a prompt too long for a
	// group's models goes, in the same forms as fallbacks.
	ContextWindowFallbacks any `yaml:"context_window_fallbacks"`
	// LiteLLM's content_policy_fallbacks: where a prompt a group's
	// provider refuses by content policy goes.
	ContentPolicyFallbacks any `yaml:"content_policy_fallbacks"`
	// LiteLLM's default_fallbacks: for groups without fallbacks of their own.
	DefaultFallbacks []string `yaml:"default_fallbacks"`
	// LiteLLM's default_max_parallel_requests: max_parallel_requests for
	// each deployment that sets none (general_settings' too; this wins).
	DefaultMaxParallel *int `yaml:"default_max_parallel_requests"`
	// LiteLLM's max_fallbacks: how many fallback groups a request may try.
	MaxFallbacks *int `yaml:"max_fallbacks"`
	// ProviderBudgetConfig is LiteLLM's spend limit per provider:
	// {openai: {budget_limit: 100, time_period: 1d}}.
	ProviderBudgetConfig map[string]rawBudget `yaml:"provider_budget_config"`
	// LiteLLM's model_group_alias: alias -> group, or alias -> {model, hidden}.
	ModelGroupAlias map[string]any `yaml:"model_group_alias"`
	CircuitBreaker  rawBreaker     `yaml:"circuit_breaker"`
	// LiteLLM's cooldown settings, mapped onto the breaker when there is
	// no circuit_breaker block.
	AllowedFails       *int           `yaml:"allowed_fails"`
	CooldownTime       any            `yaml:"cooldown_time"`
	DisableCooldowns   *bool          `yaml:"disable_cooldowns"`
	AllowedFailsPolicy map[string]int `yaml:"allowed_fails_policy"`
	RetryPolicy        map[string]int `yaml:"retry_policy"`
	// ModelGroupRetryPolicy is a retry_policy per model group.
	ModelGroupRetryPolicy map[string]map[string]int `yaml:"model_group_retry_policy"`
	Bulkhead              rawBulkhead               `yaml:"bulkhead"`
	Alerting              rawAlerting               `yaml:"alerting"`
	State                 string                    `yaml:"state"`
	// CacheKwargs are LiteLLM Router's arguments for its Redis: breakerd
	// reads a Sentinel's or a Cluster's nodes there (Redis).
	CacheKwargs    map[string]any `yaml:"cache_kwargs"`
	RedisHost      string         `yaml:"redis_host"`
	RedisPort      any            `yaml:"redis_port"`
	RedisPassword  string         `yaml:"redis_password"`
	RedisURL       string         `yaml:"redis_url"`
	RedisDB        *int           `yaml:"redis_db"`
	RedisNamespace string         `yaml:"redis_namespace"`
	RedisFlush     any            `yaml:"redis_flush_interval"`
	// LiteLLM's switches for enforcing deployments' rpm and tpm, and for
	// deployment affinity (session_affinity, deployment_affinity).
	EnablePreCallChecks   *bool    `yaml:"enable_pre_call_checks"`
	OptionalPreCallChecks []string `yaml:"optional_pre_call_checks"`
	// AffinityTTL is how long an idle affinity lasts; GroupAffinity, a
	// group's own affinity checks in place of optional_pre_call_checks'.
	AffinityTTL   any                 `yaml:"deployment_affinity_ttl_seconds"`
	GroupAffinity map[string][]string `yaml:"model_group_affinity_config"`
	// LiteLLM's tag routing: requests' tags pick deployments by theirs.
	EnableTagFiltering   *bool `yaml:"enable_tag_filtering"`
	TagFilteringMatchAny *bool `yaml:"tag_filtering_match_any"`
}

type rawAlerting struct {
	WebhookURL       string        `yaml:"webhook_url"`
	SlackWebhook     string        `yaml:"slack_webhook"`
	Notifiers        []rawNotifier `yaml:"notifiers"`
	DashboardURL     string        `yaml:"dashboard_url"`
	RunbookURL       string        `yaml:"runbook_url"`
	GroupWindow      any           `yaml:"group_window"`
	FlapThreshold    *int          `yaml:"flap_threshold"`
	FlapWindow       any           `yaml:"flap_window"`
	StableAfter      any           `yaml:"stable_after"`
	ReminderInterval any           `yaml:"reminder_interval"`
	QueueSize        *int          `yaml:"queue_size"`
	Timeout          any           `yaml:"timeout"`
	MaxRetries       *int          `yaml:"max_retries"`
}

type rawNotifier struct {
	Type        string            `yaml:"type"`
	Name        string            `yaml:"name"`
	WebhookURL  string            `yaml:"webhook_url"`
	Token       string            `yaml:"token"`
	Channel     string            `yaml:"channel"`
	APIURL      string            `yaml:"api_url"`
	URL         string            `yaml:"url"`
	Headers     map[string]string `yaml:"headers"`
	Secret      string            `yaml:"secret"`
	Format      string            `yaml:"format"`
	RoutingKey  string            `yaml:"routing_key"`
	EventsURL   string            `yaml:"events_url"`
	Timeout     any               `yaml:"timeout"`
	Breakers    []string          `yaml:"breakers"`
	Providers   []string          `yaml:"providers"`
	Transitions []string          `yaml:"transitions"`
}

type rawBreaker struct {
	Enabled               *bool                 `yaml:"enabled"`
	FailureThreshold      *int                  `yaml:"failure_threshold"`
	WindowSize            any                   `yaml:"window_size"`
	WindowBuckets         *int                  `yaml:"window_buckets"`
	RecoveryTimeout       any                   `yaml:"recovery_timeout"`
	MaxRecoveryTimeout    any                   `yaml:"max_recovery_timeout"`
	SuccessThreshold      *int                  `yaml:"success_threshold"`
	HalfOpenMaxCalls      *int                  `yaml:"half_open_max_calls"`
	FailureRateThreshold  *float64              `yaml:"failure_rate_threshold"`
	MinimumCalls          *int                  `yaml:"minimum_calls"`
	SlowCallThreshold     any                   `yaml:"slow_call_threshold"`
	SlowCallRateThreshold *float64              `yaml:"slow_call_rate_threshold"`
	RespectRetryAfter     *bool                 `yaml:"respect_retry_after"`
	StreamFailureRate     *float64              `yaml:"stream_failure_rate_threshold"`
	StreamMinimumCalls    *int                  `yaml:"stream_minimum_calls"`
	FailureConditions     []map[string]any      `yaml:"failure_conditions"`
	Operations            map[string]rawBreaker `yaml:"operations"`
}

type rawBulkhead struct {
	MaxQueue *int `yaml:"max_queue"`
	MaxWait  any  `yaml:"max_wait"`
}

type rawServer struct {
	Listen            string   `yaml:"listen"`
	MetricsListen     string   `yaml:"metrics_listen"`
	MaxBodyBytes      *int64   `yaml:"max_body_bytes"`
	ReadHeaderTimeout any      `yaml:"read_header_timeout"`
	ShutdownDrain     any      `yaml:"shutdown_drain"`
	ShutdownGrace     any      `yaml:"shutdown_grace"`
	IdleTimeout       any      `yaml:"idle_timeout"`
	BodyReadTimeout   any      `yaml:"body_read_timeout"`
	SendTimeout       any      `yaml:"send_timeout"`
	CORSOrigins       []string `yaml:"cors_allowed_origins"`
	MaxConcurrent     *int     `yaml:"max_concurrent_requests"`
	MaxConnections    *int     `yaml:"max_connections"`
	FetchPrivateURLs  *bool    `yaml:"fetch_private_urls"`
}

type rawLogging struct {
	Format string `yaml:"format"`
	Level  string `yaml:"level"`
}

// rawCachePoint is one of LiteLLM's cache_control_injection_points.
type rawCachePoint struct {
	Location string         `yaml:"location"`
	Role     string         `yaml:"role"`
	Index    *int           `yaml:"index"`
	Control  map[string]any `yaml:"control"`
}
