package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/complexity"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/provider"
)

func cmdCheckConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path, err := configFile(fs, args, "")
	if err != nil {
		return err
	}
	if path == "" {
		return errors.New("usage: breakerd check-config [--config] FILE")
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	for _, w := range slices.Concat(cfg.Warnings, cfg.KeyWarnings()) {
		fmt.Fprintln(stderr, "warning:", w)
	}
	d, err := daemon.New(daemon.Options{Config: cfg, Inspect: true})
	if err != nil {
		return err
	}
	defer d.Close()
	gw := d.Gateway()
	fmt.Fprintf(stdout, "%s: OK\n", cfg.Path)
	if len(cfg.Included) > 0 {
		fmt.Fprintf(stdout, "included: %s\n", strings.Join(cfg.Included, ", "))
	}
	fmt.Fprintf(stdout, "\nlisten %s, routing_strategy %s, num_retries %d, max_fallbacks %d, timeout %s\n",
		cfg.Server.Listen, cfg.Router.Strategy, cfg.Router.NumRetries, cfg.Router.MaxFallbacks, cfg.Router.Timeout)
	if rd := cfg.Router.Redis; cfg.Router.State == "redis" {
		fmt.Fprintf(stdout, "shared state: %s, namespace %s: trips, trials, failure rates and enforced rate limits are fleet-wide\n",
			redisWhere(rd, "redis_url"), rd.Namespace)
	}
	if cfg.Server.MasterKey.Value() != "" {
		from := ""
		if cfg.Server.MasterKeyFrom != "" {
			from = " (from $" + cfg.Server.MasterKeyFrom + ", as LiteLLM takes it when the config sets none)"
		}
		fmt.Fprintf(stdout, "API clients must send the master key %s%s\n", cfg.Server.MasterKey, from)
	} else {
		fmt.Fprintln(stdout, "API clients: anyone who can reach the listener (no general_settings.master_key)")
	}
	if r := cfg.Server.AllowedRoutes; r != nil {
		fmt.Fprintf(stdout, "routes served: only %s (others get a 403; /health and /metrics always)\n", strings.Join(r, ", "))
	}
	if ips := cfg.Server.AllowedIPs; ips != nil {
		var rs []string
		for _, p := range ips {
			rs = append(rs, p.String())
		}
		from := "its connection's address"
		if cfg.Server.ForwardedFor {
			from = "X-Forwarded-For's last address"
		}
		fmt.Fprintf(stdout, "API clients only from: %s (%s; others get a 403)\n", strings.Join(rs, ", "), from)
	}
	if r := cfg.Server.PublicRoutes; len(r) > 0 && cfg.Server.MasterKey.Value() != "" {
		fmt.Fprintf(stdout, "routes open without the master key: %s\n", strings.Join(r, ", "))
	}
	if cfg.Metrics.LiteLLMNames {
		fmt.Fprintln(stdout, "metrics: /metrics has LiteLLM's metric names too (litellm_settings callbacks: prometheus)")
	}
	if o := cfg.Server.CORSOrigins; len(o) > 0 {
		fmt.Fprintf(stdout, "web pages may call the API from: %s\n", strings.Join(o, ", "))
	}
	if a := cfg.Router.Aliases; len(a) > 0 {
		var names []string
		for _, name := range slices.Sorted(maps.Keys(a)) {
			s := name + " -> " + strings.Join(append([]string{a[name].Group}, a[name].Then...), ", then ")
			if a[name].Hidden {
				s += " (hidden)"
			}
			if cr := a[name].Complexity; cr != nil {
				var tiers []string
				for t, groups := range cr.Tiers {
					if len(groups) > 0 {
						tiers = append(tiers, complexity.Tier(t).String()+" "+strings.Join(groups, "/"))
					}
				}
				s += " (first by the prompt's complexity: " + strings.Join(tiers, ", ") + ")"
			}
			names = append(names, s)
		}
		fmt.Fprintf(stdout, "aliases: %s\n", strings.Join(names, ", "))
	}
	if f := cfg.Router.ForwardHeaders; len(f) > 0 || cfg.Router.ForwardOpenAIOrg {
		what := "clients' x- headers (not x-stainless-*, x-amz-* or keys) and anthropic-beta"
		if len(f) == 0 {
			what = ""
		}
		if cfg.Router.ForwardOpenAIOrg {
			what = strings.TrimPrefix(what+", and OpenAI-Organization", ", and ")
		}
		whose := "every model's requests"
		if !slices.Contains(f, "*") && len(f) > 0 {
			whose = "requests for " + strings.Join(f, ", ")
			if cfg.Router.ForwardOpenAIOrg {
				whose += " (OpenAI-Organization: every model's)"
			}
		}
		fmt.Fprintf(stdout, "headers forwarded upstream: %s, on %s\n", what, whose)
	}
	for _, rf := range []struct {
		what string
		to   map[string][]string
	}{{"too long for a model", cfg.Router.ContextWindowFallbacks}, {"refused by a content policy", cfg.Router.ContentPolicyFallbacks}} {
		var moves []string
		for _, grp := range gw.Groups() {
			if to := rf.to[grp.Name]; len(to) > 0 {
				moves = append(moves, grp.Name+" -> "+strings.Join(to, ", "))
			}
		}
		if len(moves) > 0 {
			fmt.Fprintf(stdout, "prompts %s go on: %s\n", rf.what, strings.Join(moves, "; "))
		}
	}
	if p := cfg.Health.Probes; p.Interval > 0 {
		how := "counted and logged, not judged (enable_health_check_routing is off)"
		if p.Routing {
			how = "counted toward the breakers: they open and close circuits"
			if p.TripAtOnce {
				how = "judged: a failed check opens its deployment's circuit, a passing trial closes it"
			}
		}
		if p.IgnoreTransient {
			how += "; a check's 429 or 408 never counts"
		}
		var off []string
		for _, d := range cfg.Deployments {
			if d.Check.Off || p.Groups != nil && !slices.Contains(p.Groups, d.Group) {
				off = append(off, d.Name)
			}
		}
		if len(off) > 0 {
			how += "; not checked: " + strings.Join(off, ", ")
		}
		fmt.Fprintf(stdout, "health checks: a one-token call to each deployment at start and every %s, %s\n", p.Interval, how)
	}
	for _, pt := range cfg.PassThrough {
		how := "exactly"
		if pt.IncludeSubpath {
			how = "and below"
		}
		auth := "no key asked"
		if pt.Auth {
			auth = "master key asked"
		}
		fmt.Fprintf(stdout, "pass-through: %s (%s) -> %s, %d headers set, %s, through breaker passthrough:%s\n", pt.Path, how, pt.Target, len(pt.Headers), auth, pt.Path)
	}
	if cc := cfg.Cache; cc != nil {
		mode := ""
		if cc.DefaultOff {
			mode = ", for requests with cache: {use-cache: true}"
		}
		where := "in memory"
		switch r := cc.Redis; {
		case r != nil:
			where += " and " + redisWhere(*r, "cache_params' url")
		case cc.Shared:
			where += " and in the fleet's Redis (router_settings')"
		}
		fmt.Fprintf(stdout, "response cache: %s answers kept %s %s%s\n", strings.Join(cc.APIs, ", "), cc.TTL, where, mode)
	}
	var pinned []string
	for _, grp := range gw.Groups() {
		a, ok := cfg.Router.GroupAffinity[grp.Name]
		if !ok {
			a = cfg.Router.Affinity
		}
		var by []string
		if a.Session {
			by = append(by, "session")
		}
		if a.Key {
			by = append(by, "API key")
		}
		if a.Prompt {
			by = append(by, "cached prompt prefix")
		}
		if len(by) > 0 && len(grp.Deployments) > 1 {
			pinned = append(pinned, grp.Name+" (by "+strings.Join(by, ", then ")+")")
		}
	}
	if len(pinned) > 0 {
		fmt.Fprintf(stdout, "affinity: requests stay on the deployment that served their session or key last, while its circuit lets them, for %s after the last: %s\n",
			cfg.Router.AffinityTTL, strings.Join(pinned, "; "))
	}
	alertsSummary(stdout, cfg.Alerting)
	if cfg.Router.Breaker.Enabled {
		// Read the settings back from a real breaker, defaults filled in.
		s := breaker.New(cfg.Router.Breaker.SettingsFor(string(provider.Chat))).Settings()
		var when []string
		if s.ConsecutiveFailures > 0 {
			when = append(when, fmt.Sprintf("%d consecutive failures", s.ConsecutiveFailures))
		}
		if s.WindowFailures > 0 {
			when = append(when, fmt.Sprintf("%d failures in %s", s.WindowFailures, s.Window))
		}
		if s.FailureRateThreshold > 0 {
			when = append(when, fmt.Sprintf("%.0f%% failures over %d+ calls in %s", s.FailureRateThreshold*100, s.MinimumCalls, s.Window))
		}
		opens := "no failure threshold"
		if len(when) > 0 {
			opens = "open after " + strings.Join(when, " or ")
		}
		fmt.Fprintf(stdout, "circuit breaker: %s; trials after %s; %d trial successes close it\n", opens, s.OpenTimeout, s.SuccessThreshold)
		if m := cfg.Router.Breaker.FromLiteLLM; len(m) > 0 {
			fmt.Fprintf(stdout, "  from LiteLLM's settings: %s\n", strings.Join(m, "; "))
		}
	} else {
		fmt.Fprintln(stdout, "circuit breaker: disabled")
	}
	if gs := cfg.Router.GroupStrategies; len(gs) > 0 {
		fmt.Fprintln(stdout, "routing groups (router_settings.routing_groups): these models route by strategies of their own")
		for _, m := range slices.Sorted(maps.Keys(gs)) {
			fmt.Fprintf(stdout, "  %s: %s\n", m, gs[m].Strategy)
		}
	}
	fmt.Fprintln(stdout, "\nrouting table (tried top to bottom; simple-shuffle and the live strategies vary the order within a tier):")
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\t#\tDEPLOYMENT\tPROVIDER\tAPI BASE\tAPI KEY\tTIMEOUT / STREAM\tBREAKERS")
	for _, grp := range gw.Groups() {
		route := gw.Route(grp.Name)
		for i, dep := range route {
			dc := dep.Config
			base := dc.APIBase
			if dc.HTTP2PriorKnowledge {
				base += " (h2c)"
			}
			switch { // ssl_verify
			case dc.TLSSkipVerify:
				base += " (certificate not checked)"
			case dc.TLSRootCAs != nil:
				base += " (certificate checked against ssl_verify's CA bundle)"
			}
			key := "not set"
			if dc.APIKey.Value() != "" {
				key = dc.APIKey.String()
			}
			if k, err := config.ParseGoogleKey(dc.GoogleCredentials); err == nil {
				key = "tokens of " + k.Who() // Vertex AI's
			} else if dc.GoogleMetadata != "" {
				key = "tokens of the machine's service account"
			}
			if dc.Entra != nil {
				key = dc.Entra.How // never the token or secret
			}
			if w := dc.Watsonx; w != nil {
				switch {
				case w.ZenAPIKey != "":
					key = "Cloud Pak's ZenApiKey"
				case w.Token != "":
					key = "a token given"
				default:
					key = "IBM Cloud IAM tokens for its API key"
				}
			}
			if b := dc.AWSAuth(); b != nil && dc.APIKey == "" {
				switch { // the key's ID is not printed either
				case b.Role != nil:
					key = "signed, role " + b.Role.ARN
				case b.Container != nil:
					key = "signed, the container's AWS key"
				case b.Instance != "":
					key = "signed, the EC2 instance's role"
				default:
					key = "signed, AWS key in " + b.Region
				}
			}
			var names []string
			for _, op := range dep.Operations() {
				names = append(names, dep.Breakers[op].Name())
			}
			label := grp.Name
			if i > 0 {
				label = ""
			}
			role := "primary"
			if dc.Group != grp.Name {
				role = "fallback"
				// A fallback that serves not what the group does (a chat
				// model behind an embedding one) is passed over.
				if op := route[0].Operations()[0]; dep.Breakers[op] == nil {
					role += fmt.Sprintf(", serves no %s: passed over", op)
				}
			}
			st := cfg.Router.StrategyOf(dc.Group)
			if dc.Weight > 0 && st.Strategy == "simple-shuffle" {
				role += fmt.Sprintf(", weight %g", dc.Weight)
			}
			if dc.Order != nil {
				role += fmt.Sprintf(", order %d", *dc.Order)
			}
			if dc.Region != "" {
				role += ", region " + dc.Region
			}
			if dc.NumRetries != nil {
				role += fmt.Sprintf(", %d retries", *dc.NumRetries)
			}
			if dc.Retired != "" {
				role += ", its model " + strings.SplitN(dc.Retired, ";", 2)[0] // the date; the warning says the rest
			}
			if cfg.Router.TagFiltering && len(dc.Tags) > 0 {
				role += ", tags " + strings.Join(dc.Tags, " ")
			}
			if st.Strategy == "least-cost" {
				if dc.Priced {
					role += fmt.Sprintf(", $%.4g in + $%.4g out per 1M tokens", dc.InputCostPerToken*1e6, dc.OutputCostPerToken*1e6)
					for _, t := range dc.LongContext {
						past := strings.TrimSuffix(strings.TrimPrefix(t.Suffix(), "_above_"), "_tokens")
						role += fmt.Sprintf(" ($%.4g + $%.4g past %s input tokens)", t.Input*1e6, t.Output*1e6, past)
					}
					for _, tier := range slices.Sorted(maps.Keys(dc.ServiceTiers)) {
						t := dc.ServiceTiers[tier]
						role += fmt.Sprintf(" ($%.4g + $%.4g at the %s tier)", t.Input*1e6, t.Output*1e6, tier)
					}
				} else {
					role += ", no price: after the priced"
				}
			}
			if cfg.Router.ContextWindowCheck && dc.MaxInputTokens > 0 {
				role += fmt.Sprintf(", prompts up to %d tokens", dc.MaxInputTokens)
			}
			if cfg.Router.EnforceRateLimits && dc.RPM > 0 {
				role += fmt.Sprintf(", limit %g rpm", dc.RPM)
			}
			if cfg.Router.EnforceRateLimits && dc.TPM > 0 {
				role += fmt.Sprintf(", limit %g tpm", dc.TPM)
			}
			if b, ok := cfg.Router.ProviderBudgets[dc.Provider]; ok {
				role += ", provider budget " + b.String()
			}
			if dc.Budget != nil {
				role += ", budget " + dc.Budget.String()
			}
			prov := dc.Provider
			if string(dc.Dialect) != dc.Provider {
				prov += " (" + string(dc.Dialect) + " API)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s (%s)\t%s\t%s\t%s\t%s / %s\t%s\n", label, i+1, dc.Name, role, prov,
				gw.Redactor().Redact(base), key, dc.Timeout, streamLimits(dc), strings.Join(names, ", "))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var params []string
	for _, dc := range cfg.Deployments {
		var ps []string
		for _, k := range slices.Sorted(maps.Keys(dc.Defaults)) {
			v := string(dc.Defaults[k])
			if config.CredentialName(k) {
				v = "[REDACTED]" // extra_body may carry a token
			}
			ps = append(ps, k+"="+v)
		}
		if len(ps) > 0 {
			params = append(params, fmt.Sprintf("  %s: %s, unless the request sets them", dc.Name, strings.Join(ps, ", ")))
		}
		if len(dc.Headers) > 0 {
			params = append(params, fmt.Sprintf("  %s: sends headers %s (values not shown)", dc.Name, strings.Join(slices.Sorted(maps.Keys(dc.Headers)), ", ")))
		}
		if dc.DropParams {
			params = append(params, fmt.Sprintf("  %s: drop_params (parameters its provider cannot take are dropped)", dc.Name))
		}
		if dc.MergeReasoning {
			params = append(params, fmt.Sprintf("  %s: merge_reasoning_content_in_choices (chat clients get its reasoning in content, between <think> and </think>)", dc.Name))
		}
		if len(dc.ParamRenames) > 0 {
			var rs []string
			for _, from := range slices.Sorted(maps.Keys(dc.ParamRenames)) {
				rs = append(rs, from+" as "+dc.ParamRenames[from])
			}
			params = append(params, fmt.Sprintf("  %s: sends %s", dc.Name, strings.Join(rs, ", ")))
		}
		if len(dc.Refuses) > 0 || len(dc.RefusesInMessages) > 0 {
			var left, refused []string
			for _, k := range slices.Sorted(maps.Keys(dc.Refuses)) {
				if dc.Refuses[k] == "" {
					left = append(left, k)
				} else {
					refused = append(refused, k)
				}
			}
			if len(dc.RefusesInMessages) > 0 {
				left = append(left, "messages' "+strings.Join(dc.RefusesInMessages, ", "))
			}
			var says []string
			if len(left) > 0 {
				says = append(says, strings.Join(left, ", ")+" (left out)")
			}
			if len(refused) > 0 {
				says = append(says, strings.Join(refused, ", ")+" (left out at their default, else parameters it cannot take)")
			}
			params = append(params, fmt.Sprintf("  %s: its upstream refuses %s", dc.Name, strings.Join(says, "; ")))
		}
		if len(dc.Fit.SchemaKeywords) > 0 {
			params = append(params, fmt.Sprintf("  %s: fits the JSON Schemas of tools and response formats to the %d keywords its model takes",
				dc.Name, len(dc.Fit.SchemaKeywords)))
		}
		if dc.Fit.ReasoningContent {
			params = append(params, fmt.Sprintf("  %s: gives an assistant message without reasoning_content an empty one (its thinking model refuses it without)", dc.Name))
		}
		if dc.Fit.ThoughtSignatures {
			params = append(params, fmt.Sprintf("  %s: gives an assistant's tool call without a thought signature Google's stand-in (Gemini 3 refuses it without)", dc.Name))
		}
		if dc.Fit.ResponsesOnly {
			params = append(params, fmt.Sprintf("  %s: takes chat requests through the Responses API, translated", dc.Name))
		}
		if takes, times := config.FastMode(dc.Model); takes && dc.Provider == "anthropic" {
			price := "its price for it not published: its standard prices are charged"
			if times > 0 {
				price = fmt.Sprintf("at %g times its prices", times)
			}
			params = append(params, fmt.Sprintf("  %s: takes fast mode (speed: fast), %s", dc.Name, price))
		}
		if info, _ := config.LookupProvider(dc.Provider); info.ReportsCost {
			params = append(params, fmt.Sprintf("  %s: its calls are charged the cost its answers report (usage.cost), whatever its prices", dc.Name))
		}
		if dc.USOnlyPrice > 0 && dc.Provider == "anthropic" {
			params = append(params, fmt.Sprintf("  %s: takes inference_geo us (US-only inference), at %g times its prices", dc.Name, dc.USOnlyPrice))
		}
		if dc.Fit.ToolsWithoutReasoning && !dc.Fit.ResponsesOnly {
			params = append(params, fmt.Sprintf("  %s: takes function tools in chat completions only with reasoning_effort none (its Responses API takes both)", dc.Name))
		}
		var whileReasoning []string
		for _, k := range slices.Sorted(maps.Keys(dc.Fit.RefusesReasoning)) {
			if _, always := dc.Refuses[k]; !always {
				whileReasoning = append(whileReasoning, k)
			}
		}
		if len(whileReasoning) > 0 {
			when := "a reasoning_effort other than none"
			if dc.Fit.ReasonsByDefault {
				when = "no reasoning_effort of none"
			}
			params = append(params, fmt.Sprintf("  %s: with %s, its upstream refuses %s (left out at their default, else parameters it cannot take)",
				dc.Name, when, strings.Join(whileReasoning, ", ")))
		}
	}
	if len(params) > 0 {
		fmt.Fprintf(stdout, "\nrequest parameters:\n%s\n", strings.Join(params, "\n"))
	}
	var wild []string
	for _, dc := range cfg.Deployments {
		if dc.Wildcard {
			base := cmp.Or(gw.Redactor().Redact(dc.APIBase), "each provider's default")
			wild = append(wild, fmt.Sprintf("  %s -> %s (api_base %s)", dc.Group, dc.ModelRef, base))
		}
	}
	if len(wild) > 0 {
		fmt.Fprintf(stdout, "\nwildcards (one deployment and breaker per requested model, at most %d models):\n%s\n",
			gateway.MaxWildcardModels, strings.Join(wild, "\n"))
	}
	if len(cfg.FileStores) > 0 {
		fmt.Fprintln(stdout, "\nfiles_settings (uploads that name no model, by custom_llm_provider; openai when none):")
		for _, fs := range cfg.FileStores {
			key := "not set"
			if fs.APIKey.Value() != "" {
				key = fs.APIKey.String()
			}
			fmt.Fprintf(stdout, "  %s at %s, key %s\n", fs.Name, gw.Redactor().Redact(fs.APIBase), key)
		}
	}
	return nil
}

// redisWhere says where a Redis is, for check-config: its address, a
// Sentinel's master, a Cluster's nodes, or the setting its URL is in
// (urlKey), since a URL may hold a password.
func redisWhere(r config.Redis, urlKey string) string {
	switch {
	case r.URL != "":
		return "in Redis (" + urlKey + ")"
	case len(r.Sentinels) > 0:
		return fmt.Sprintf("in the Redis master %s that the sentinels at %s name", r.MasterName, strings.Join(r.Sentinels, ", "))
	case len(r.ClusterNodes) > 0:
		return "in the Redis Cluster of " + strings.Join(r.ClusterNodes, ", ")
	}
	return "in Redis at " + r.Addr
}

// streamLimits says how long a deployment's streams wait for a chunk:
// stream_timeout, or the first chunk's and the later ones' when they
// differ (ttft_timeout, stream_idle_timeout).
func streamLimits(dc config.Deployment) string {
	first, next := cmp.Or(dc.FirstChunkTimeout, dc.StreamTimeout), cmp.Or(dc.ChunkIdleTimeout, dc.StreamTimeout)
	if first == next {
		return next.String()
	}
	return fmt.Sprintf("%s first, %s", first, next)
}

// alertsSummary says where breakerd's alerts go and what each notifier
// is sent, its secrets (webhook URLs, tokens, keys) redacted: the
// on-call's check that alerts reach them before an outage does.
func alertsSummary(w io.Writer, a config.Alerting) {
	if len(a.Notifiers) == 0 {
		fmt.Fprintln(w, "alerts: none sent (no notifier: breaker changes show in /metrics, the logs and traces)")
		return
	}
	var how []string
	if a.GroupWindow > 0 {
		how = append(how, fmt.Sprintf("openings within %s grouped into one message", a.GroupWindow))
	}
	if a.FlapThreshold > 0 {
		how = append(how, fmt.Sprintf("a breaker changing more than %d times in %s is flapping: one alert, then quiet until stable %s", a.FlapThreshold, a.FlapWindow, a.StableAfter))
	}
	if a.ReminderInterval > 0 {
		how = append(how, fmt.Sprintf("reminded every %s while a circuit stays open", a.ReminderInterval))
	}
	if a.SlowThreshold > 0 {
		how = append(how, fmt.Sprintf("slow answers and hanging calls from %s", a.SlowThreshold))
	}
	to := "1 notifier"
	if len(a.Notifiers) > 1 {
		to = fmt.Sprintf("%d notifiers", len(a.Notifiers))
	}
	fmt.Fprintf(w, "alerts: to %s; %s\n", to, strings.Join(how, "; "))
	for _, n := range a.Notifiers {
		var to string
		switch n.Type {
		case "slack":
			to = "incoming webhook " + n.WebhookURL.String()
			if n.Token != "" {
				to = "bot token " + n.Token.String() + " in " + n.Channel
			}
		case "webhook":
			to = n.URL.String() + ", " + cmp.Or(n.Format, "breakerd") + " format"
			if n.Secret != "" {
				to += ", signed"
			}
		case "pagerduty":
			to = "routing key " + n.RoutingKey.String()
		}
		kinds := "every kind"
		if len(n.Transitions) > 0 {
			kinds = strings.Join(n.Transitions, ", ")
		}
		var only []string
		if len(n.Breakers) > 0 {
			only = append(only, "breakers "+strings.Join(n.Breakers, ", "))
		}
		if len(n.Providers) > 0 {
			only = append(only, "providers "+strings.Join(n.Providers, ", "))
		}
		filter := ""
		if len(only) > 0 {
			filter = "; only " + strings.Join(only, " and ")
		}
		fmt.Fprintf(w, "  %s %q (%s): %s%s\n", n.Type, n.Name, to, kinds, filter)
	}
}
