package complexity

import (
	"math"
	"testing"
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
