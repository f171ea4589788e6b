package app

import (
	"fmt"
	"time"

	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
)

// failureEvents are dev iterations that fail after the build, as the stages
// report them on the test bed: a manifest that does not parse, an object the API
// server rejects, and a rollout that fails on a crashing container.
func failureEvents() []event.Event {
	ms := time.Millisecond
	crash := &rollout.FailureError{
		Resource: "deployment/web", Pod: "web-7d4b9c8f6d-x2x9q", Container: "app", Reason: "CrashLoopBackOff",
		Message: "back-off 10s restarting failed container=app pod=web-7d4b9c8f6d-x2x9q_default(d0c1b2a3); last exit code 1 (Error)",
		Events: []string{
			"Normal Pulled: Container image \"web:9a8b7c6d5e4f3a2b\" already present on machine (x2)",
			"Warning BackOff: Back-off restarting failed container app in pod web-7d4b9c8f6d-x2x9q_default(d0c1b2a3) (x3)",
		},
		Logs: []string{"listening on :8080", "panic: open /etc/web/config.yaml: no such file or directory"},
	}
	const yamlErr = "document 1: yaml: line 9: mapping values are not allowed in this context"
	const applyErr = "applying deployment/web: failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string"
	return []event.Event{
		{Iteration: 5, Phase: event.PhaseIteration, Status: event.StatusStart, Files: []string{"k8s/web.yaml"}},
		{Iteration: 5, Phase: event.PhaseDeploy, Status: event.StatusFailure, File: "/src/k8s/web.yaml", Line: 9, Message: yamlErr},
		{Iteration: 5, Phase: event.PhaseIteration, Status: event.StatusFailure, Message: "iteration 5 failed: rendering manifests: reading manifests: /src/k8s/web.yaml:9: " + yamlErr},

		{Iteration: 6, Phase: event.PhaseIteration, Status: event.StatusStart, Files: []string{"k8s/web.yaml"}},
		{Iteration: 6, Phase: event.PhaseDeploy, Status: event.StatusStart, Message: "applying 6 objects"},
		{Iteration: 6, Phase: event.PhaseDeploy, Status: event.StatusFailure, Resource: "deployment/web", File: "/src/k8s/web.yaml", Line: 1, Message: "/src/k8s/web.yaml:1: " + applyErr, Duration: 49 * ms},
		{Iteration: 6, Phase: event.PhaseIteration, Status: event.StatusFailure, Message: "iteration 6 failed: applying: /src/k8s/web.yaml:1: " + applyErr},

		{Iteration: 7, Phase: event.PhaseIteration, Status: event.StatusStart, Files: []string{"app.py", "k8s/web.yaml"}},
		{Iteration: 7, Phase: event.PhaseBuild, Status: event.StatusStart, Artifact: "web"},
		{Iteration: 7, Phase: event.PhaseBuild, Status: event.StatusSuccess, Artifact: "web", Ref: "web:9a8b7c6d5e4f3a2b", Duration: 1200 * ms},
		{Iteration: 7, Phase: event.PhaseSideload, Status: event.StatusSuccess, Artifact: "web", Bytes: 4100, BlobsSkipped: 6, Duration: 200 * ms},
		{Iteration: 7, Phase: event.PhaseDeploy, Status: event.StatusSuccess, Message: "applied 6 objects", Duration: 90 * ms},
		{Iteration: 7, Phase: event.PhaseRollout, Status: event.StatusStart, Resource: "deployment/web"},
		{Iteration: 7, Phase: event.PhaseRollout, Status: event.StatusProgress, Resource: "deployment/web", Message: "1/2 replicas updated", Duration: 300 * ms},
		{Iteration: 7, Phase: event.PhaseRollout, Status: event.StatusFailure, Resource: "deployment/web", Message: "pod web-7d4b9c8f6d-x2x9q: container app: CrashLoopBackOff: back-off 10s restarting failed container", Duration: 9400 * ms},
		{Iteration: 7, Phase: event.PhaseIteration, Status: event.StatusFailure, Message: fmt.Errorf("iteration 7 failed: rollout: %w", crash).Error(), Duration: 11 * time.Second},
	}
}
