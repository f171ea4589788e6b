package bench

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// The markers in BENCHMARKS.md between which Record writes the latest output.
const (
	recordBegin = "<!-- bench:begin (written by bench/run.sh -record; do not edit by hand) -->"
	recordEnd   = "<!-- bench:end -->"
)

// Record writes the report into the file at path, between its markers, with
// the command that produced it; the rest of the file (the prose) is kept.
func Record(path, command string, rep *Report) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		return err
	}
	block := fmt.Sprintf("%s\nCommand: `%s`\n\n```text\n%s```\n%s", recordBegin, command, out.String(), recordEnd)
	updated, err := replaceBlock(string(old), block)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(updated), 0o644)
}

// replaceBlock replaces the text from recordBegin to recordEnd (both included)
// with block.
func replaceBlock(doc, block string) (string, error) {
	i := strings.Index(doc, recordBegin)
	j := strings.Index(doc, recordEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q … %q block to replace", recordBegin, recordEnd)
	}
	return doc[:i] + block + doc[j+len(recordEnd):], nil
}
