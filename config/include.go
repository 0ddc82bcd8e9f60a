package config

import (
	"fmt"
	"path/filepath"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// LiteLLM's include names YAML files, relative to the config's directory,
// whose top-level keys are merged into the config: a list (model_list,
// above all) is appended to the config's own, any other key replaces the
// config's. Only the config's own include is read, as in LiteLLM.

// sources names the file of every node of a config document: main,
// or for the nodes of an included file (by position) that file, so that
// errors and warnings point into the file the key is in.
type sources struct {
	main     string
	files    map[*token.Position]string
	included []string // the files merged in, in order
}

// errorAt is an Error at pos (nil: the file as a whole) about key.
func (s *sources) errorAt(pos *token.Position, key, msg string) *Error {
	if pos == nil {
		return &Error{File: s.main, Key: key, Msg: msg}
	}
	file := s.main
	if f, ok := s.files[pos]; ok {
		file = f
	}
	return &Error{File: file, Line: pos.Line, Column: pos.Column, Key: key, Msg: msg}
}

// mergeIncludes merges the files named by the top-level include of the
// mapping body (from the file name) into it and removes the include key.
// A file that cannot be read or parsed, or an include that is not a file
// name or a list of them, is an error at the include.
func mergeIncludes(name string, body *ast.MappingNode, readFile func(string) ([]byte, error)) (*sources, []error) {
	m := &sources{main: name, files: map[*token.Position]string{}}
	i := topKey(body, "include")
	if i < 0 {
		return m, nil
	}
	inc := body.Values[i]
	body.Values = append(body.Values[:i], body.Values[i+1:]...)
	at := func(n ast.Node, key, format string, args ...any) error {
		return m.errorAt(n.GetToken().Position, key, fmt.Sprintf(format, args...))
	}
	var paths []ast.Node
	switch v := inc.Value.(type) {
	case *ast.StringNode:
		paths = []ast.Node{v}
	case *ast.SequenceNode:
		paths = v.Values
	default:
		return m, []error{at(inc.Key, "include", "must be a file name or a list of file names")}
	}
	var errs []error
	for j, p := range paths {
		key := fmt.Sprintf("include[%d]", j)
		s, ok := p.(*ast.StringNode)
		if !ok || s.Value == "" {
			errs = append(errs, at(p, key, "must be a file name"))
			continue
		}
		file := s.Value
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(name), file)
		}
		data, err := readFile(file)
		if err != nil {
			errs = append(errs, at(p, key, "cannot read the included file: %v", err))
			continue
		}
		f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
		if err != nil {
			errs = append(errs, yamlError(file, err))
			continue
		}
		if len(f.Docs) == 0 || f.Docs[0].Body == nil {
			continue // an empty file adds nothing
		}
		included, ok := f.Docs[0].Body.(*ast.MappingNode)
		if !ok {
			errs = append(errs, at(p, key, "the included file %s must be a mapping of top-level keys, as the config is", file))
			continue
		}
		m.included = append(m.included, file)
		ast.Walk(positions{m.files, file}, included)
		for _, mv := range included.Values {
			k := keyOf(mv)
			if k == "include" {
				errs = append(errs, at(mv.Key, "include", "an included file's include is not read (LiteLLM reads the config's own only); list its files in the config's include instead"))
				continue
			}
			mine := topKey(body, k)
			switch {
			case mine < 0:
				body.Values = append(body.Values, mv)
			default:
				own, isList := body.Values[mine].Value.(*ast.SequenceNode)
				more, addsList := mv.Value.(*ast.SequenceNode)
				if isList && addsList {
					own.Values = append(own.Values, more.Values...)
					continue
				}
				body.Values[mine] = mv
			}
		}
	}
	return m, errs
}

// topKey is the index of key in body, or -1.
func topKey(body *ast.MappingNode, key string) int {
	for i, mv := range body.Values {
		if keyOf(mv) == key {
			return i
		}
	}
	return -1
}

// positions records the file of every node it visits.
type positions struct {
	files map[*token.Position]string
	file  string
}

func (p positions) Visit(n ast.Node) ast.Visitor {
	if tk := n.GetToken(); tk != nil {
		p.files[tk.Position] = p.file
	}
	return p
}
