package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// walker checks every mapping key against the raw schema and records the
// position of every node by its path (e.g. "model_list[0].litellm_params.model"),
// so that later validation errors can point at the offending line.
type walker struct {
	src *sources
	pos map[string]*token.Position
	// byPos maps "line:col" of every value back to its path, to name the
	// key in go-yaml's type errors.
	byPos    map[string]string
	errs     []error
	warnings []string
	// misplaced are the warnings about keys written in the wrong mapping
	// (an api_base beside litellm_params instead of in it): a config
	// that fails shows them with its errors, which they likely explain.
	misplaced []error
	// refs are environment references where the schema wants a number
	// or a boolean, to be resolved before decoding.
	refs []scalarRef
	// ignored maps an ignored LiteLLM key (path with [] for indices) to
	// its warning; ignoredMore counts its other places, by warning, and
	// ignoredIn holds the model_list entry of a warning's first place.
	ignored     map[string]int
	ignoredMore map[int]int
	ignoredIn   map[int]int
	// anchors holds each YAML anchor's node by name, for the aliases
	// and merge keys (<<: *name) that use it; expanding guards against
	// an alias inside its own anchor.
	anchors   map[string]ast.Node
	expanding map[ast.Node]bool
}

// finish adds to each ignored-key warning how many more places have it.
func (w *walker) finish() {
	for i, n := range w.ignoredMore {
		w.warnings[i] += fmt.Sprintf(" (also in %d more places)", n)
	}
}

// quiet drops the ignored-key warnings of model_list entries that are
// left out of routing, and that no other entry shares, from warnings (of
// which the walker's own come first): that the entry is left out is the
// one thing to say of it.
func (w *walker) quiet(warnings []string, leftOut map[int]bool) []string {
	out := warnings[:0:0]
	for i, msg := range warnings {
		if dep, ok := w.ignoredIn[i]; ok && leftOut[dep] && w.ignoredMore[i] == 0 {
			continue
		}
		out = append(out, msg)
	}
	return out
}

// scalarRef is a mapping value such as "max_parallel_requests:
// os.environ/N" whose field is a number or a boolean.
type scalarRef struct {
	mv   *ast.MappingValueNode
	path string
	kind reflect.Kind
}

func (w *walker) walk(n ast.Node, t reflect.Type, path string) {
	if n == nil {
		return
	}
	if tk := n.GetToken(); tk != nil {
		if _, ok := w.pos[path]; !ok {
			w.pos[path] = tk.Position
		}
		if w.byPos != nil {
			w.byPos[fmt.Sprintf("%d:%d", tk.Position.Line, tk.Position.Column)] = path
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n := n.(type) {
	case *ast.DocumentNode:
		w.walk(n.Body, t, path)
	case *ast.AnchorNode:
		if w.anchors == nil {
			w.anchors, w.expanding = map[string]ast.Node{}, map[ast.Node]bool{}
		}
		// The anchor is not there for aliases inside its own value, as
		// go-yaml (which then reports them) and PyYAML's merges read it.
		name := n.Name.GetToken().Value
		delete(w.anchors, name)
		w.walk(n.Value, t, path)
		w.anchors[name] = n.Value
	case *ast.AliasNode:
		// An alias is checked where it is used: its anchor may stand
		// where no schema applies (a top-level x- key).
		if v := w.anchors[n.Value.GetToken().Value]; v != nil && !w.expanding[v] {
			w.expanding[v] = true
			w.walk(v, t, path)
			delete(w.expanding, v)
		}
	case *ast.TagNode:
		// go-yaml v1.19.2 panics decoding a tag with nothing after it
		// ("key: !", "key: !!str") where a list is wanted, so a tag
		// with no value is reported here, before any decoding.
		if _, null := n.Value.(*ast.NullNode); n.Value == nil || null {
			pos := n.GetToken().Position
			w.errs = append(w.errs, w.src.errorAt(pos, path, fmt.Sprintf("the tag %s has no value after it", n.Start.Value)))
			return
		}
		w.walk(n.Value, t, path)
	case *ast.MappingNode:
		first := map[string]int{}
		for _, mv := range n.Values {
			key := keyOf(mv)
			if line, dup := first[key]; dup {
				p := joinPath(path, key)
				pos := mv.Key.GetToken().Position
				w.warnings = append(w.warnings, w.src.errorAt(pos, p,
					fmt.Sprintf("is set again (first at line %d): the last one is used, as LiteLLM (PyYAML) does", line)).Error())
			} else {
				first[key] = mv.Key.GetToken().Position.Line
			}
			w.walkEntry(mv, t, path)
		}
	case *ast.MappingValueNode:
		w.walkEntry(n, t, path)
	case *ast.SequenceNode:
		var et reflect.Type
		if t.Kind() == reflect.Slice {
			et = t.Elem()
		}
		for i, v := range n.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			if et == nil {
				w.record(v, p)
				continue
			}
			w.walk(v, et, p)
		}
	}
}

// record stores positions below a node whose keys the schema does not fix.
func (w *walker) record(n ast.Node, path string) {
	w.walk(n, reflect.TypeFor[any](), path)
}

// keyOf returns a mapping entry's key, unquoted.
func keyOf(mv *ast.MappingValueNode) string {
	key := mv.Key.String()
	if k, err := strconv.Unquote(key); err == nil {
		key = k
	}
	return key
}

// joinPath appends key to a key path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (w *walker) walkEntry(mv *ast.MappingValueNode, t reflect.Type, path string) {
	if mv.Key.IsMergeKey() {
		// <<: *name (or a list of them) puts the anchor's keys in this
		// mapping, as PyYAML and go-yaml decode it: check them here.
		if seq, ok := mv.Value.(*ast.SequenceNode); ok {
			mv.Value = w.flatten(seq)
		}
		w.walk(mv.Value, t, path)
		return
	}
	key := keyOf(mv)
	p := joinPath(path, key)
	w.pos[p] = mv.Key.GetToken().Position
	switch t.Kind() {
	case reflect.Struct:
		f, ok := fieldByTag(t, key)
		if !ok && path == "" && definitions(key, mv.Value) {
			w.record(mv.Value, p)
			return
		}
		if !ok && pricedKey(key) && hasInline(t) {
			w.record(mv.Value, p) // a long-context or service tier's price, read from the inline map
			return
		}
		if !ok {
			pos := mv.Key.GetToken().Position
			if hint, ok := liteLLMOnly(path, key); ok {
				w.record(mv.Value, p)
				// One warning per key, not per deployment: the first
				// place, and a count of the others.
				norm := index.ReplaceAllString(p, "[]")
				if i, seen := w.ignored[norm]; seen {
					w.ignoredMore[i]++
					return
				}
				msg := "a LiteLLM setting that breakerd does not use; ignored"
				if hint != "" {
					msg += " (" + hint + ")"
				}
				if w.ignored == nil {
					w.ignored, w.ignoredMore, w.ignoredIn = map[string]int{}, map[int]int{}, map[int]int{}
				}
				w.ignored[norm] = len(w.warnings)
				var dep int
				if _, err := fmt.Sscanf(p, "model_list[%d].", &dep); err == nil {
					w.ignoredIn[len(w.warnings)] = dep
				}
				w.warnings = append(w.warnings, w.src.errorAt(pos, p, msg).Error())
				return
			}
			if lenientKeys(path) && !likelyTypo(key, append(keysOf(t), liteLLMNames(path)...)) {
				w.record(mv.Value, p)
				msg := "a key breakerd does not know; ignored, as LiteLLM ignores the keys it does not know here"
				if home := homeOf(key, t); home != "" {
					msg = fmt.Sprintf("is a key of %s, not of this mapping: here it does nothing (ignored, as LiteLLM ignores it)", home)
					w.misplaced = append(w.misplaced, w.src.errorAt(pos, p, msg))
				}
				w.warnings = append(w.warnings, w.src.errorAt(pos, p, msg).Error())
				return
			}
			w.errs = append(w.errs, w.unknownKey(pos, path, p, key, t))
			return
		}
		w.noteRef(mv, f.Type, p)
		w.walk(mv.Value, f.Type, p)
	case reflect.Map:
		w.walk(mv.Value, t.Elem(), p)
	default:
		w.record(mv.Value, p)
	}
}

// flatten turns a merge key's list of anchors (<<: [*a, *b]) into one
// mapping of their keys, the first anchor's winning, as YAML's merge key
// is defined and PyYAML reads it; go-yaml merges a single mapping only.
func (w *walker) flatten(seq *ast.SequenceNode) ast.Node {
	var values []*ast.MappingValueNode
	seen := map[string]bool{}
	for _, v := range seq.Values {
		if a, ok := v.(*ast.AliasNode); ok {
			v = w.anchors[a.Value.GetToken().Value]
		}
		m, ok := v.(*ast.MappingNode)
		if !ok {
			// Not a mapping, or an alias of an anchor not yet complete
			// (its own): go-yaml's decoder reports what is wrong. Merging
			// it here would make the tree a cycle.
			return seq
		}
		for _, mv := range m.Values {
			if k := keyOf(mv); !seen[k] {
				seen[k] = true
				values = append(values, mv)
			}
		}
	}
	return ast.Mapping(seq.GetToken(), true, values...)
}

// definitions reports whether a top-level key that is not one of the
// config's holds YAML anchors for the rest of the file to use: its name
// starts with x- (Docker Compose's convention), or its value is anchored.
// Such a key is not read, and not an error.
func definitions(key string, v ast.Node) bool {
	_, anchored := v.(*ast.AnchorNode)
	return anchored || strings.HasPrefix(key, "x-")
}

// noteRef records mv if its value is an environment reference (as
// converter.resolve reads them) and t is a number or a boolean.
func (w *walker) noteRef(mv *ast.MappingValueNode, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
	default:
		return
	}
	s, ok := mv.Value.(*ast.StringNode)
	if ok && (strings.HasPrefix(s.Value, "os.environ/") || envRef.MatchString(s.Value)) {
		w.refs = append(w.refs, scalarRef{mv: mv, path: path, kind: t.Kind()})
	}
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key && name != "" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// hasInline reports whether t has an inline map, which holds all the keys
// of its mapping.
func hasInline(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("yaml") == ",inline" {
			return true
		}
	}
	return false
}

func keysOf(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	return keys
}

func (w *walker) unknownKey(pos *token.Position, parent, path, key string, t reflect.Type) error {
	keys := keysOf(t)
	msg := fmt.Sprintf("unknown key %q", key)
	if s := nearest(key, append(keys, liteLLMNames(parent)...)); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += " (valid keys: " + strings.Join(keys, ", ") + ")"
	}
	return w.src.errorAt(pos, path, msg)
}

// lenientKeys reports whether LiteLLM takes keys it does not know in the
// mapping at path: at the top level and in router_settings (which it
// filters by its Router's arguments) it ignores them, and a deployment and
// its litellm_params allow any key. There an unknown key that is not a
// likely typo is a warning, so that a config LiteLLM runs loads; in
// breakerd's own settings it is an error.
func lenientKeys(path string) bool {
	switch index.ReplaceAllString(path, "[]") {
	case "", "router_settings", "model_list[]", "model_list[].litellm_params":
		return true
	}
	return false
}

// homeOf names the mapping, other than t, whose key key is: a setting
// written in the wrong place (allowed_fails in litellm_params).
func homeOf(key string, t reflect.Type) string {
	for _, m := range []struct {
		name string
		t    reflect.Type
	}{
		{"router_settings", reflect.TypeFor[rawRouter]()}, {"litellm_settings", reflect.TypeFor[rawLiteLLM]()},
		{"litellm_params", reflect.TypeFor[rawParams]()}, {"general_settings", reflect.TypeFor[rawGeneral]()},
		{"server", reflect.TypeFor[rawServer]()}, {"model_list entries", reflect.TypeFor[rawDeployment]()},
	} {
		if _, ok := fieldByTag(m.t, key); ok && m.t != t {
			return m.name
		}
	}
	return ""
}

// likelyTypo reports whether key is within two edits of a candidate.
func likelyTypo(key string, candidates []string) bool {
	return slices.ContainsFunc(candidates, func(c string) bool {
		return editDistance(strings.ToLower(key), strings.ToLower(c)) <= 2
	})
}

// nearest returns the candidate closest to s by edit distance, if it is
// close enough to be a plausible typo.
func nearest(s string, candidates []string) string {
	// A typo changes a character or two: least-busy is not least-cost.
	best, bestD := "", max(2, len(s)/3)+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
