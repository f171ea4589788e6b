package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
)

func TestFormatPodEvents(t *testing.T) {
	at := func(sec int) metav1.Time { return metav1.NewTime(time.Date(2026, 11, 22, 10, 0, sec, 0, time.UTC)) }
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", UID: "new"}}
	ev := func(name, uid, typ, reason, msg string, sec int, count int32) corev1.Event {
		return corev1.Event{
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: name, UID: k8stypes.UID(uid)},
			Type:           typ, Reason: reason, Message: msg, LastTimestamp: at(sec), Count: count,
		}
	}
	events := []corev1.Event{
		ev("web-1", "new", "Warning", "BackOff", "Back-off restarting failed container app in pod web-1", 9, 4),
		ev("web-1", "new", "Normal", "Scheduled", "Successfully assigned default/web-1 to devloop-testbed", 1, 1),
		ev("web-1", "old", "Warning", "Failed", "from an earlier pod of the same name", 0, 1),
		ev("web-2", "", "Warning", "Failed", "another pod", 5, 1),
		ev("web-1", "", "Normal", "Pulled", "Container image \"busybox\" already\npresent on machine", 2, 1),
	}
	tests := []struct {
		name         string
		warningsOnly bool
		n            int
		want         []string
	}{
		{
			name: "all, oldest first",
			n:    10,
			want: []string{
				"Normal Scheduled: Successfully assigned default/web-1 to devloop-testbed",
				`Normal Pulled: Container image "busybox" already present on machine`,
				"Warning BackOff: Back-off restarting failed container app in pod web-1 (x4)",
			},
		},
		{name: "last one", n: 1, want: []string{"Warning BackOff: Back-off restarting failed container app in pod web-1 (x4)"}},
		{name: "warnings only", warningsOnly: true, n: 10, want: []string{"Warning BackOff: Back-off restarting failed container app in pod web-1 (x4)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := formatPodEvents(events, pod, tc.warningsOnly, tc.n)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("formatPodEvents() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLastLines(t *testing.T) {
	long := strings.Repeat("é", maxLineLen) // two bytes each: the cut must not split one
	tests := []struct {
		name string
		text string
		n    int
		want []string
	}{
		{name: "empty", text: "", n: 3},
		{name: "trailing newline dropped", text: "a\nb\n", n: 3, want: []string{"a", "b"}},
		{name: "keeps the last n", text: "1\n2\n3\n4\n", n: 2, want: []string{"3", "4"}},
		{name: "crlf", text: "a\r\nb\r\n", n: 3, want: []string{"a", "b"}},
		{name: "long line cut on a rune boundary", text: long, n: 1, want: []string{strings.Repeat("é", maxLineLen/2) + "…"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lastLines(tc.text, tc.n)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lastLines(%q, %d) mismatch (-want +got):\n%s", tc.text, tc.n, diff)
			}
		})
	}
}
