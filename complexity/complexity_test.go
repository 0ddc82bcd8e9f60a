package complexity

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// Prompts are scored as LiteLLM's default heuristic scores them, each
// figure worked by hand from its weights.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name, prompt, system string
		want                 Tier
		score                float64
	}{
		{"a short simple question", "What is 2+2?", "", Simple, -0.1 - 0.05},
		{"code, two markers", "Write a python function that parses dates", "", Medium, -0.1 + 0.3},
		{"code and technical terms", "Think step by step: analyze the performance implications of implementing a distributed consensus algorithm for our microservices architecture.",
			"", Complex, 0.7*0.25 + 0.5*0.3 + 0.5*0.25},
		{"two reasoning markers", "Think step by step and show your work: which sorting is best here?", "", Reasoning, 0.25},
		{"reasoning markers in the system prompt do not count", "hello there my friend, how are you doing today?",
			"Think step by step and show your work.", Simple, -0.1 - 0.05},
		{"but its code does", "how do I make this faster, and what should change in it?", "You are a python and rust expert.", Medium, -0.1 + 0.3},
		{"whole words only", "the terrorism of a classical capital is a topic for essays and nothing more than that today", "", Simple, 0},
		{"a numbered list, and many questions", "Why? How? When? Where? Consider 1. this and 2. that for the plan we drew up last week at the office",
			"", Simple, 0.03*0.5 + 0.02*0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tier, score, signals := New(Config{}).Classify(tc.prompt, tc.system)
			if tier != tc.want || math.Abs(score-tc.score) > 1e-9 {
				t.Fatalf("%s %.4f (%v), want %s %.4f", tier, score, signals, tc.want, tc.score)
			}
		})
	}
}

// A config's boundaries, weights and keywords replace LiteLLM's.
func TestClassifyWithAConfig(t *testing.T) {
	s := New(Config{Boundaries: [3]float64{-1, -0.5, 0.01}, Weights: map[string]float64{"codePresence": 1},
		Code: []string{"Frobnicate"}})
	if tier, score, _ := s.Classify("please frobnicate the widget", ""); tier != Reasoning || score != 0.5 {
		t.Fatalf("%s %.2f, want REASONING 0.50", tier, score)
	}
	if tier, score, _ := s.Classify("what is a python function?", ""); tier != Complex || score != 0 {
		t.Fatalf("%s %.2f: only the config's keywords and weights count", tier, score)
	}
}

func TestParseTier(t *testing.T) {
	for i, name := range []string{"SIMPLE", "medium", "Complex", "REASONING"} {
		if tier, ok := ParseTier(name); !ok || tier != Tier(i) || tier.String() != names[i] {
			t.Errorf("%s: %v %v", name, tier, ok)
		}
	}
	if _, ok := ParseTier("EXTREME"); ok {
		t.Error("EXTREME parsed")
	}
}

// Any text classifies, the same each time.
func FuzzClassify(f *testing.F) {
	f.Add("Think step by step: 1. first this, then that?", "You are a python expert.")
	f.Add("terrorism é 日本語 error", "")
	s := New(Config{})
	f.Fuzz(func(t *testing.T, prompt, system string) {
		tier, score, _ := s.Classify(prompt, system)
		again, score2, _ := s.Classify(prompt, system)
		if tier < Simple || tier > Reasoning || tier != again || score != score2 {
			t.Fatalf("%v %v, then %v %v", tier, score, again, score2)
		}
	})
}

// BenchmarkClassify scores a prompt of about 500 words.
func BenchmarkClassify(b *testing.B) {
	prompt := strings.Repeat("Implement a distributed cache in rust and explain its latency step by step. ", 40)
	s := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		s.Classify(prompt, "You are a senior engineer.")
	}
}

// reference scores as LiteLLM's code reads: each keyword searched for on
// its own, the multi-step patterns as regular expressions; Classify
// must agree with it on any text.
func reference(prompt, system string) (Tier, float64) {
	full, user := strings.ToLower(system+" "+prompt), strings.ToLower(prompt)
	var score float64
	w := defaultWeights
	switch tokens := utf8.RuneCountInString(prompt) / 4; {
	case tokens < 15:
		score -= w["tokenCount"]
	case tokens > 400:
		score += w["tokenCount"]
	}
	n := func(text string, list []string) int {
		c := 0
		for _, k := range list {
			if matches(text, k) {
				c++
			}
		}
		return c
	}
	grade := func(dim string, n, low, high int, lowScore, highScore float64) {
		switch {
		case n >= high:
			score += highScore * w[dim]
		case n >= low:
			score += lowScore * w[dim]
		}
	}
	grade("codePresence", n(full, defaultCode), 1, 2, 0.5, 1)
	r := n(user, defaultReasoning)
	grade("reasoningMarkers", r, 1, 2, 0.7, 1)
	grade("technicalTerms", n(full, defaultTechnical), 2, 4, 0.5, 1)
	grade("simpleIndicators", n(full, defaultSimple), 1, 2, -1, -1)
	// LiteLLM's \s is Python's, which takes \v too; RE2's does not.
	for _, re := range []string{`(?i)first.*?then`, `(?i)step[\s\v]*\d`, `\d+\.[\s\v]`, `(?i)[a-z]\)[\s\v]`} {
		if regexp.MustCompile(re).MatchString(full) {
			score += 0.5 * w["multiStepPatterns"]
			break
		}
	}
	if strings.Count(prompt, "?") > 3 {
		score += 0.5 * w["questionComplexity"]
	}
	switch {
	case r >= 2:
		return Reasoning, score
	case score < 0.15:
		return Simple, score
	case score < 0.35:
		return Medium, score
	case score < 0.60:
		return Complex, score
	}
	return Reasoning, score
}

// Classify agrees with the reference on any text.
func FuzzClassifyAgreesWithTheReference(f *testing.F) {
	f.Add("Think step by step: 1. first this, then that? a) x", "You are a python expert; evaluate it.")
	f.Add("what's the error in this class? hi!", "")
	f.Add("step\n2 first\nthen 9.\tb)\n", "日本語 api")
	s := New(Config{})
	f.Fuzz(func(t *testing.T, prompt, system string) {
		if !utf8.ValidString(prompt) || !utf8.ValidString(system) {
			return // regexp and a rune loop read invalid bytes differently
		}
		tier, score, _ := s.Classify(prompt, system)
		rt, rs := reference(prompt, system)
		if tier != rt || math.Abs(score-rs) > 1e-9 {
			t.Fatalf("%s %.4f, the reference %s %.4f", tier, score, rt, rs)
		}
	})
}
