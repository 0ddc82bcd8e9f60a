// Package complexity classifies a prompt into the tiers of LiteLLM's
// complexity router (auto_router/complexity_router) with its default
// heuristic: seven weighted dimensions (the prompt's length, code,
// reasoning markers, technical terms, simple-question markers, multi-step
// patterns and questions), summed and mapped to a tier by three
// boundaries, with two or more reasoning markers meaning REASONING. It
// calls nothing and reads only the text it is given.
package complexity

import (
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

// The keyword lists a scorer reads, by index.
const (
	listCode = iota
	listReasoning
	listTechnical
	listSimple
	lists
)

// Scorer classifies prompts. It is safe for concurrent use.
type Scorer struct {
	boundaries  [3]float64
	short, long int
	weights     map[string]float64
	// words are the keywords that are one word (letters, digits and
	// underscores), found by a lookup of each word of a prompt; phrases
	// are the others, searched for in it.
	words   map[string][]keyword
	phrases []keyword
	sizes   [lists]int
}

// keyword is a keyword's list, and its place in the list.
type keyword struct {
	list, index int
	text        string
}

// New returns a scorer of c, its zero fields LiteLLM's defaults.
func New(c Config) *Scorer {
	s := &Scorer{boundaries: c.Boundaries, short: c.ShortTokens, long: c.LongTokens, weights: c.Weights, words: map[string][]keyword{}}
	for list, kws := range [lists][]string{or(c.Code, defaultCode), or(c.Reasoning, defaultReasoning),
		or(c.Technical, defaultTechnical), or(c.Simple, defaultSimple)} {
		s.sizes[list] = len(kws)
		for i, k := range kws {
			kw := keyword{list, i, strings.ToLower(k)}
			if oneWord(kw.text) {
				s.words[kw.text] = append(s.words[kw.text], kw)
			} else {
				s.phrases = append(s.phrases, kw)
			}
		}
	}
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

func or(list, def []string) []string {
	if list == nil {
		return def
	}
	return list
}

// oneWord reports whether k is a single word, every rune a word
// character.
func oneWord(k string) bool {
	for _, r := range k {
		if !word(r) {
			return false
		}
	}
	return k != ""
}

// Classify returns the tier of a prompt (the user's last message) with
// its system prompt, its score and the signals that moved it. Code,
// technical and simple markers are read in both; reasoning markers, the
// length and the questions in the prompt alone, so that a system prompt
// cannot make every request REASONING.
func (s *Scorer) Classify(prompt, system string) (Tier, float64, []string) {
	lowSystem, user := strings.ToLower(system), strings.ToLower(prompt)
	full := lowSystem + " " + user
	userAt := len(lowSystem) + 1
	var found [lists][]bool
	for l := range found {
		found[l] = make([]bool, s.sizes[l])
	}
	mark := func(kw keyword, at int) {
		if kw.list != listReasoning || at >= userAt { // reasoning markers count in the prompt alone
			found[kw.list][kw.index] = true
		}
	}
	for at := 0; at < len(full); {
		r, n := utf8.DecodeRuneInString(full[at:])
		if !word(r) {
			at += n
			continue
		}
		end := at + n
		for end < len(full) {
			r, n := utf8.DecodeRuneInString(full[end:])
			if !word(r) {
				break
			}
			end += n
		}
		for _, kw := range s.words[full[at:end]] {
			mark(kw, at)
		}
		at = end
	}
	for _, kw := range s.phrases {
		text, at := full, 0
		if kw.list == listReasoning {
			text, at = user, userAt
		}
		if matches(text, kw.text) {
			mark(kw, at)
		}
	}
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
	count := func(list int) int {
		n := 0
		for _, f := range found[list] {
			if f {
				n++
			}
		}
		return n
	}
	grade := func(dim, label string, n, low, high int, lowScore, highScore float64) {
		switch {
		case n >= high:
			add(dim, highScore, label)
		case n >= low:
			add(dim, lowScore, label)
		}
	}
	grade("codePresence", "code", count(listCode), 1, 2, 0.5, 1)
	reasoning := count(listReasoning)
	grade("reasoningMarkers", "reasoning", reasoning, 1, 2, 0.7, 1)
	grade("technicalTerms", "technical", count(listTechnical), 2, 4, 0.5, 1)
	grade("simpleIndicators", "simple", count(listSimple), 1, 2, -1, -1)
	if multiStep(full) {
		add("multiStepPatterns", 0.5, "multi-step")
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

// multiStep reports whether lowercase text has one of LiteLLM's
// multi-step patterns: "first" then "then" on one line (first.*?then),
// "step" and a digit (step\s*\d), a numbered item (\d+\.\s) or a
// lettered one ([a-z]\)\s).
func multiStep(text string) bool {
	for rest := text; ; {
		i := strings.Index(rest, "first")
		if i < 0 {
			break
		}
		line := rest[i+len("first"):]
		if nl := strings.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl]
		}
		if strings.Contains(line, "then") {
			return true
		}
		rest = rest[i+1:]
	}
	for rest := text; ; {
		i := strings.Index(rest, "step")
		if i < 0 {
			break
		}
		after := strings.TrimLeft(rest[i+len("step"):], " \t\n\r\f\v")
		if after != "" && after[0] >= '0' && after[0] <= '9' {
			return true
		}
		rest = rest[i+1:]
	}
	for i := 1; i+1 < len(text); i++ {
		switch c, prev, next := text[i], text[i-1], text[i+1]; {
		case !space(next):
		case c == '.' && prev >= '0' && prev <= '9', c == ')' && prev >= 'a' && prev <= 'z':
			return true
		}
	}
	return false
}

// space reports whether c is whitespace, as a regexp's \s reads it.
func space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
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
