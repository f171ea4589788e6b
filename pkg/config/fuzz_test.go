package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or hang, and that every
// failure is reported as positioned *Error values.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
		f.Add(data, "dev")
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, profile string) {
		var profiles []string
		if profile != "" {
			profiles = []string{profile}
		}
		cfg, err := Parse("fuzz.yaml", data, dir, profiles...)
		if err == nil {
			if cfg == nil {
				t.Fatalf("Parse(%q) = nil, nil", data)
			}
			return
		}
		if cfg != nil {
			t.Errorf("Parse(%q) returned a config with error %v", data, err)
		}
		errs := Errors(err)
		if len(errs) == 0 {
			t.Fatalf("Parse(%q) error %v holds no *Error", data, err)
		}
		for _, e := range errs {
			if e.File != "fuzz.yaml" || e.Msg == "" {
				t.Errorf("Parse(%q) error %#v, want File fuzz.yaml and a message", data, e)
			}
		}
	})
}
