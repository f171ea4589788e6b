// Package watch reports which files changed under a set of roots, in coalesced
// batches, so that devloop's loop can decide which artifacts to rebuild and which
// manifests to re-apply.
//
// A root is an artifact's build context (a directory, optionally filtered by its
// .dockerignore), a manifest directory, or a single file such as devloop.yaml. The
// watcher uses fsnotify on directories only (editors save by writing a temporary file
// and renaming it over the original, which a watch on the file itself would lose), adds
// directories created later, drops Chmod events and never polls. Paths that cannot
// affect a build or deploy are dropped early: .git, what .dockerignore excludes, editor
// temporary files and caller-given patterns. Ignored directories are not even watched,
// so a large ignored node_modules costs no inotify watches.
//
// Events are coalesced: a batch is sent once the tree has been quiet for
// Options.Quiet, or Options.MaxWait after its first event when changes never stop.
// Files that were created and removed again inside one batch (temporary files of
// tools such as `sed -i`) are not reported.
//
// The package does not decide what a change means (rebuild, re-apply, reload config):
// that is the loop's job, helped by Batch.Roots. It does not follow symbolic links,
// matching what a Docker build context sends.
package watch
