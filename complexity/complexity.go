// Package complexity classifies a prompt into the tiers of LiteLLM's
// complexity router (auto_router/complexity_router) with its default
// heuristic: seven weighted dimensions (the prompt's length, code,
// reasoning markers, technical terms, simple-question markers, multi-step
// patterns and questions), summed and mapped to a tier by three
// boundaries, with two or more reasoning markers meaning REASONING. It
// calls nothing and reads only the text it is given.
package complexity

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tier is a complexity tier, in LiteLLM's order of severity.
type Tier int

// The tiers.
const (
	Simple Tier = iota
	Medium
	Complex
	Reasoning
)

// names are the tiers' names, as LiteLLM's configs write them.
var names = [...]string{"SIMPLE", "MEDIUM", "COMPLEX", "REASONING"}

// String returns the tier's name (SIMPLE, MEDIUM, COMPLEX or REASONING).
func (t Tier) String() string {
	if t < Simple || t > Reasoning {
		return "UNKNOWN"
	}
	return names[t]
}

// ParseTier returns the tier a config names (SIMPLE, MEDIUM, COMPLEX or
// REASONING, in any case).
func ParseTier(name string) (Tier, bool) {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return Tier(i), true
		}
	}
	return 0, false
}

// Config is a scorer's settings: LiteLLM's complexity_router_config. A
// zero field takes LiteLLM's default; a Weights map is read as written (a
// dimension it leaves out weighs nothing), as LiteLLM reads it.
type Config struct {
	// Boundaries are the scores between SIMPLE and MEDIUM, MEDIUM and
	// COMPLEX, COMPLEX and REASONING (tier_boundaries: simple_medium,
	// medium_complex, complex_reasoning).
	Boundaries [3]float64
	// ShortTokens and LongTokens bound a prompt's length in tokens (four
	// characters each): under ShortTokens it scores -1, over LongTokens +1
	// (token_thresholds: simple, complex).
	ShortTokens, LongTokens int
	// Weights are the dimensions' weights by LiteLLM's names (tokenCount,
	// codePresence, reasoningMarkers, technicalTerms, simpleIndicators,
	// multiStepPatterns, questionComplexity).
	Weights map[string]float64
	// The keyword lists (code_keywords, reasoning_keywords,
	// technical_keywords, simple_keywords).
	Code, Reasoning, Technical, Simple []string
}

// LiteLLM's defaults; read only.
var (
	defaultBoundaries = [3]float64{0.15, 0.35, 0.60}
	defaultWeights    = map[string]float64{"tokenCount": 0.10, "codePresence": 0.30, "reasoningMarkers": 0.25,
		"technicalTerms": 0.25, "simpleIndicators": 0.05, "multiStepPatterns": 0.03, "questionComplexity": 0.02}
	defaultCode = []string{"function", "class", "def", "const", "let", "var", "import", "export", "return", "async",
		"await", "try", "catch", "exception", "error", "debug", "api", "endpoint", "request", "response", "database",
		"sql", "query", "schema", "algorithm", "implement", "refactor", "optimize", "python", "javascript",
		"typescript", "java", "rust", "golang", "react", "vue", "angular", "node", "docker", "kubernetes", "git",
		"commit", "merge", "branch", "pull request"}
	defaultReasoning = []string{"step by step", "think through", "let's think", "reason through", "analyze this",
		"break down", "explain your reasoning", "show your work", "chain of thought", "think carefully",
		"consider all", "evaluate", "pros and cons", "compare and contrast", "weigh the options", "logical",
		"deduce", "infer", "conclude"}
	defaultTechnical = []string{"architecture", "distributed", "scalable", "microservice", "machine learning",
		"neural network", "deep learning", "encryption", "authentication", "authorization", "performance",
		"latency", "throughput", "benchmark", "concurrency", "parallel", "threading", "memory", "cpu", "gpu",
		"optimization", "protocol", "tcp", "http", "grpc", "websocket", "container", "orchestration"}
	defaultSimple = []string{"what is", "what's", "define", "definition of", "who is", "who was", "when did",
		"when was", "where is", "where was", "how many", "how much", "yes or no", "true or false", "simple", "brief",
		"short", "quick", "hello", "hi", "hey", "thanks", "thank you", "goodbye", "bye", "okay"}
)

// multiStep are LiteLLM's multi-step patterns: "first ... then",
// "step 1", a numbered list, a lettered one.
var multiStep = []*regexp.Regexp{regexp.MustCompile(`(?i)first.*?then`), regexp.MustCompile(`(?i)step\s*\d`),
	regexp.MustCompile(`\d+\.\s`), regexp.MustCompile(`(?i)[a-z]\)\s`)}

// Scorer classifies prompts. It is safe for concurrent use.
type Scorer struct {
	boundaries                         [3]float64
	short, long                        int
	weights                            map[string]float64
	code, reasoning, technical, simple []string
}

// New returns a scorer of c, its zero fields LiteLLM's defaults.
func New(c Config) *Scorer {
	s := &Scorer{boundaries: c.Boundaries, short: c.ShortTokens, long: c.LongTokens, weights: c.Weights,
		code: lower(c.Code, defaultCode), reasoning: lower(c.Reasoning, defaultReasoning),
		technical: lower(c.Technical, defaultTechnical), simple: lower(c.Simple, defaultSimple)}
	for i, b := range s.boundaries {
		if b == 0 {
			s.boundaries[i] = defaultBoundaries[i]
		}
	}
	if s.short == 0 {
		s.short = 15
	}
	if s.long == 0 {
		s.long = 400
	}
	if s.weights == nil {
		s.weights = defaultWeights
	}
	return s
}

func lower(list, def []string) []string {
	if list == nil {
		list = def
	}
	out := make([]string, len(list))
	for i, k := range list {
		out[i] = strings.ToLower(k)
	}
	return out
}

// Classify returns the tier of a prompt (the user's last message) with
// its system prompt, its score and the signals that moved it. Code,
// technical and simple markers are read in both; reasoning markers, the
// length and the questions in the prompt alone, so that a system prompt
// cannot make every request REASONING.
func (s *Scorer) Classify(prompt, system string) (Tier, float64, []string) {
	full := strings.ToLower(system + " " + prompt)
	user := strings.ToLower(prompt)
	var score float64
	var signals []string
	add := func(dim string, v float64, signal string) {
		score += v * s.weights[dim]
		if signal != "" {
			signals = append(signals, signal)
		}
	}
	switch tokens := utf8.RuneCountInString(prompt) / 4; {
	case tokens < s.short:
		add("tokenCount", -1, "short")
	case tokens > s.long:
		add("tokenCount", 1, "long")
	}
	keywords := func(dim, label, text string, list []string, low, high int, lowScore, highScore float64) int {
		n := 0
		for _, k := range list {
			if matches(text, k) {
				n++
			}
		}
		switch {
		case n >= high:
			add(dim, highScore, label)
		case n >= low:
			add(dim, lowScore, label)
		}
		return n
	}
	keywords("codePresence", "code", full, s.code, 1, 2, 0.5, 1)
	reasoning := keywords("reasoningMarkers", "reasoning", user, s.reasoning, 1, 2, 0.7, 1)
	keywords("technicalTerms", "technical", full, s.technical, 2, 4, 0.5, 1)
	keywords("simpleIndicators", "simple", full, s.simple, 1, 2, -1, -1)
	for _, re := range multiStep {
		if re.MatchString(full) {
			add("multiStepPatterns", 0.5, "multi-step")
			break
		}
	}
	if strings.Count(prompt, "?") > 3 {
		add("questionComplexity", 0.5, "questions")
	}
	switch {
	case reasoning >= 2:
		return Reasoning, score, signals
	case score < s.boundaries[0]:
		return Simple, score, signals
	case score < s.boundaries[1]:
		return Medium, score, signals
	case score < s.boundaries[2]:
		return Complex, score, signals
	}
	return Reasoning, score, signals
}

// matches reports whether keyword k is in text: a phrase anywhere, a
// single word only as a whole word ("error" not in "terrorism"), as
// LiteLLM matches them.
func matches(text, k string) bool {
	if strings.Contains(k, " ") {
		return strings.Contains(text, k)
	}
	for i := 0; ; {
		j := strings.Index(text[i:], k)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(k)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if (start == 0 || !word(before)) && (end == len(text) || !word(after)) {
			return true
		}
		i = start + 1
	}
}

// word reports whether r is a word character, as a regexp's \b reads one.
func word(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
