package build

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRewriteFrom(t *testing.T) {
	refs := map[string]string{"base": "base:0011223344556677", "localhost:5000/tools": "localhost:5000/tools:8899aabbccddeeff"}
	for _, tc := range []struct {
		name        string
		in          string
		args        map[string]string
		want        string
		wantChanged bool
	}{{
		name:        "plain FROM",
		in:          "FROM base\nRUN make\n",
		want:        "FROM base:0011223344556677\nRUN make\n",
		wantChanged: true,
	}, {
		name:        "tag, platform flag, stage name and lowercase",
		in:          "from --platform=base base:latest as build\nFROM build\n",
		want:        "from --platform=base base:0011223344556677 as build\nFROM build\n",
		wantChanged: true,
	}, {
		name:        "continuation keeps line numbers",
		in:          "FROM \\\n  localhost:5000/tools AS t\nCOPY --from=t / /\n",
		want:        "FROM \\\n  localhost:5000/tools:8899aabbccddeeff AS t\nCOPY --from=t / /\n",
		wantChanged: true,
	}, {
		name:        "ARG-named base",
		in:          "ARG BASE=other\nFROM ${BASE}\n",
		args:        map[string]string{"BASE": "base"},
		want:        "ARG BASE=other\nFROM base:0011223344556677\n",
		wantChanged: true,
	}, {
		name: "other images and pinned digests stay",
		in:   "FROM python:3.11-slim\nFROM base@sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\nFROM basement\n",
		want: "FROM python:3.11-slim\nFROM base@sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\nFROM basement\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := rewriteFrom([]byte(tc.in), tc.args, refs)
			if changed != tc.wantChanged {
				t.Errorf("rewriteFrom() changed = %v, want %v", changed, tc.wantChanged)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("rewriteFrom() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
