package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// ManifestError is a problem with one manifest document. File, Doc and Line locate it
// when known, so the CLI and events can point at it.
type ManifestError struct {
	File string // path of the manifest file or kustomize directory
	Doc  int    // 1-based index of the YAML document in File; 0 when unknown
	Line int    // 1-based line in File; 0 when unknown
	Err  error
}

// Error formats as "file:line: document N: cause".
func (e *ManifestError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Doc > 0 {
		fmt.Fprintf(&b, ": document %d", e.Doc)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *ManifestError) Unwrap() error { return e.Err }

// document is one YAML document and the line of the file it starts on.
type document struct {
	data []byte
	line int
}

// splitDocuments cuts a multi-document YAML stream at "---" lines, remembering where
// each document starts so errors can name absolute lines.
func splitDocuments(data []byte) []document {
	var docs []document
	start, startLine, line := 0, 1, 1
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := off + end + 1
		if end < 0 {
			end, next = len(data)-off, len(data)
		}
		if isSeparator(data[off : off+end]) {
			docs = append(docs, document{data: data[start:off], line: startLine})
			start, startLine = next, line+1
		}
		off = next
	}
	return append(docs, document{data: data[start:], line: startLine})
}

func isSeparator(l []byte) bool {
	l = bytes.TrimRight(l, " \t\r")
	return bytes.Equal(l, []byte("---")) || bytes.HasPrefix(l, []byte("--- ")) || bytes.HasPrefix(l, []byte("---\t"))
}

// decode parses every document of data into objects, expanding List kinds and
// skipping empty documents. file names the source in errors and in the source
// annotation; withLines is false for generated YAML (kustomize) whose lines mean
// nothing to the user.
func decode(data []byte, file string, withLines bool) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for i, doc := range splitDocuments(data) {
		merr := func(line int, err error) error {
			e := &ManifestError{File: file, Err: err}
			if withLines { // generated YAML (kustomize): positions mean nothing to the user
				e.Doc, e.Line = i+1, line
			}
			return e
		}
		js, err := yaml.YAMLToJSON(doc.data)
		if err != nil {
			return nil, merr(doc.line+errorLine(err)-1, err)
		}
		js = bytes.TrimSpace(js)
		if len(js) == 0 || bytes.Equal(js, []byte("null")) {
			continue
		}
		if js[0] != '{' {
			return nil, merr(doc.line, errors.New("not a Kubernetes object: the document is not a mapping"))
		}
		var m map[string]interface{}
		if err := utiljson.Unmarshal(js, &m); err != nil {
			return nil, merr(doc.line, err)
		}
		source := file
		if withLines {
			source = file + ":" + strconv.Itoa(doc.line)
		}
		got, err := toObjects(m, source)
		if err != nil {
			return nil, merr(doc.line, err)
		}
		objs = append(objs, got...)
	}
	return objs, nil
}

// errorLine extracts N from a YAML parser error "yaml: line N: ...", or returns 1.
func errorLine(err error) int {
	s := err.Error()
	i := strings.Index(s, "line ")
	if i < 0 {
		return 1
	}
	s = s[i+len("line "):]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(s[:j])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// toObjects validates one decoded document and expands it when it is a list.
func toObjects(m map[string]interface{}, source string) ([]*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{Object: m}
	apiVersion, kind := u.GetAPIVersion(), u.GetKind()
	if apiVersion == "" || kind == "" {
		return nil, errors.New("not a Kubernetes object: apiVersion and kind are required")
	}
	if items, ok := m["items"]; ok && strings.HasSuffix(kind, "List") {
		list, ok := items.([]interface{})
		if !ok && items != nil {
			return nil, fmt.Errorf("%s: items is not a list", kind)
		}
		var objs []*unstructured.Unstructured
		for i, it := range list {
			im, ok := it.(map[string]interface{})
			if !ok {
				return nil, fmt.Errorf("%s item %d: not an object", kind, i)
			}
			item := &unstructured.Unstructured{Object: im}
			if item.GetKind() == "" && kind != "List" {
				// Typed lists (ConfigMapList) may leave the item kind implicit.
				item.SetKind(strings.TrimSuffix(kind, "List"))
			}
			if item.GetAPIVersion() == "" && kind != "List" {
				item.SetAPIVersion(apiVersion)
			}
			got, err := toObjects(item.Object, source)
			if err != nil {
				return nil, fmt.Errorf("%s item %d: %w", kind, i, err)
			}
			objs = append(objs, got...)
		}
		return objs, nil
	}
	if u.GetName() == "" {
		return nil, fmt.Errorf("%s: metadata.name is required", kind)
	}
	for _, field := range []string{"labels", "annotations"} {
		if _, _, err := unstructured.NestedStringMap(m, "metadata", field); err != nil {
			return nil, fmt.Errorf("%s %s: metadata.%s: values must be strings", kind, u.GetName(), field)
		}
	}
	a := u.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[sourceAnnotation] = source
	u.SetAnnotations(a)
	return []*unstructured.Unstructured{u}, nil
}

// Source returns the manifest file and line Read found u at (line 0 when only
// the file is known, "" when u did not come from Read). Rendered objects keep
// it, so a later failure of the object (a rollout) can point at its manifest.
func Source(u *unstructured.Unstructured) (file string, line int) { return sourceOf(u) }

// sourceOf returns the file and line recorded by Read, if any.
func sourceOf(u *unstructured.Unstructured) (file string, line int) {
	s := u.GetAnnotations()[sourceAnnotation]
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if n, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i], n
		}
	}
	return s, 0
}

// describe names an object for messages: "deployment/web (k8s/app.yaml:3)".
func describe(u *unstructured.Unstructured) string {
	s := refOf(u).String()
	if src := u.GetAnnotations()[sourceAnnotation]; src != "" {
		s += " (" + src + ")"
	}
	return s
}
