package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the config file at path and applies the named profiles in
// order. Problems with the file's content are [*Error] values (joined when
// there are several) whose File is path as given; a file that cannot be read
// is reported as a wrapped [os.ReadFile] error.
func Load(path string, profiles ...string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := Parse(path, data, filepath.Dir(abs), profiles...)
	if err != nil {
		return nil, err
	}
	cfg.File = abs
	return cfg, nil
}

// Parse decodes data, the content of the config file named file, applies
// the named profiles in order, sets defaults, validates the result and makes
// its paths absolute against baseDir (itself made absolute against the
// working directory). file is used only in error messages.
//
// Every problem is reported as an [*Error]; several are joined with
// [errors.Join], in file order. On error the returned Config is nil.
func Parse(file string, data []byte, baseDir string, profiles ...string) (*Config, error) {
	if abs, err := filepath.Abs(baseDir); err == nil {
		baseDir = abs
	}
	root, perr := parseDocument(file, data)
	if perr != nil {
		return nil, perr
	}

	// First pass: the whole file as written, profiles included, so that a
	// mistake in a profile is found even when the profile is not used.
	d := newDecoder(file)
	var raw Config
	d.decode(root, reflect.ValueOf(&raw).Elem(), "")
	d.errs = append(d.errs, checkDocument(&raw, d)...)
	if err := joinErrors(d.errs); err != nil {
		return nil, err
	}

	// Second pass: the file with profiles applied, decoded afresh so that
	// positions point at whatever line each effective value came from.
	merged := root
	for _, name := range profiles {
		i := profileIndex(raw.Profiles, name)
		if i < 0 {
			return nil, unknownProfile(file, d, raw.Profiles, name)
		}
		merged = applyProfile(merged, lookup(root, "profiles").Content[i])
	}
	d = newDecoder(file)
	var cfg Config
	d.decode(merged, reflect.ValueOf(&cfg).Elem(), "")
	if err := joinErrors(d.errs); err != nil {
		return nil, err
	}
	cfg.Profiles = raw.Profiles
	cfg.ActiveProfiles = append([]string(nil), profiles...)
	cfg.Dir = baseDir

	setDefaults(&cfg, baseDir)
	v := &validator{file: file, pos: d.pos, dir: baseDir}
	v.validate(&cfg)
	if err := joinErrors(v.errs); err != nil {
		return nil, err
	}
	resolvePaths(&cfg, baseDir)
	return &cfg, nil
}

var yamlErrPattern = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses data as exactly one YAML document and returns its
// expanded root node.
func parseDocument(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: fmt.Sprintf("empty file (want apiVersion: %s and kind: %s)", APIVersion, Kind)}
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, err)
	default:
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		return nil, &Error{File: file, Line: at.Line, Column: at.Column, Msg: "more than one YAML document (the file holds exactly one)"}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: fmt.Sprintf("empty file (want apiVersion: %s and kind: %s)", APIVersion, Kind)}
	}
	x := &expander{budget: maxNodes}
	root, err := x.expand(doc.Content[0])
	if err != nil {
		var ne *nodeError
		if errors.As(err, &ne) {
			return nil, &Error{File: file, Line: ne.line, Column: ne.column, Msg: ne.msg}
		}
		return nil, err
	}
	return root, nil
}

func syntaxError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlErrPattern.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// checkDocument checks what must hold for the file as written, before any
// profile is applied: the document's type and unique profile names.
func checkDocument(c *Config, d *decoder) []*Error {
	var errs []*Error
	at := func(path, format string, args ...any) {
		p := d.pos[path]
		errs = append(errs, &Error{File: d.file, Line: p.line, Column: p.column, Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	if _, ok := d.pos["apiVersion"]; ok && c.APIVersion != APIVersion {
		at("apiVersion", "unsupported apiVersion %q (want %s)", c.APIVersion, APIVersion)
	}
	if _, ok := d.pos["kind"]; ok && c.Kind != Kind {
		at("kind", "unsupported kind %q (want %s)", c.Kind, Kind)
	}
	seen := map[string]int{}
	for i, p := range c.Profiles {
		path := fmt.Sprintf("profiles[%d].name", i)
		switch first, dup := seen[p.Name]; {
		case p.Name == "":
			at(path, "must not be empty")
		case !profileNamePattern.MatchString(p.Name):
			at(path, "invalid profile name %q (want letters, digits, '.', '_' or '-')", p.Name)
		case dup:
			at(path, "duplicate profile %q (first at line %d)", p.Name, d.pos[fmt.Sprintf("profiles[%d].name", first)].line)
		default:
			seen[p.Name] = i
		}
	}
	return errs
}

var profileNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func profileIndex(ps []Profile, name string) int {
	for i, p := range ps {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func unknownProfile(file string, d *decoder, ps []Profile, name string) *Error {
	e := &Error{File: file, Field: "profiles"}
	if p, ok := d.pos["profiles"]; ok {
		e.Line, e.Column = p.line, p.column
	}
	if len(ps) == 0 {
		e.Msg = fmt.Sprintf("no profile named %q (the file declares no profiles)", name)
		return e
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	e.Msg = fmt.Sprintf("no profile named %q (have %s)", name, strings.Join(names, ", "))
	return e
}
