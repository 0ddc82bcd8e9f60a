package breaker

import "fmt"

// State is a breaker's state.
type State int32

const (
	// Closed lets every call through and watches outcomes.
	Closed State = iota
	// HalfOpen lets a limited number of trial calls through.
	HalfOpen
	// Open rejects every call until its open timeout ends.
	Open
	// ForcedOpen rejects every call until an admin closes or enables it.
	ForcedOpen
	// Disabled lets every call through and records nothing.
	Disabled
)

// String returns the state's snake_case name, as used in metrics and JSON.
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half_open"
	case Open:
		return "open"
	case ForcedOpen:
		return "forced_open"
	case Disabled:
		return "disabled"
	}
	return "unknown"
}

// Allows reports whether a breaker in state s may let some call through.
// Half-open counts as allowing, since trial calls pass.
func (s State) Allows() bool { return s != Open && s != ForcedOpen }

// MarshalText encodes the state as its name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state name, as written by MarshalText.
func (s *State) UnmarshalText(b []byte) error {
	for _, st := range States() {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("breaker: unknown state %q", b)
}

// States lists every state in a stable order, for metrics that need one
// series per state.
func States() []State { return []State{Closed, HalfOpen, Open, ForcedOpen, Disabled} }

// Outcome is how a call ended, as far as the breaker is concerned.
type Outcome int8

const (
	// Success counts toward closing and keeps the breaker closed.
	Success Outcome = iota
	// Failure counts toward tripping.
	Failure
	// Ignored is neutral: counted in the totals, in no rate.
	Ignored
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	}
	return "unknown"
}
