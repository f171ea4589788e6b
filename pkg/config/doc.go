// Package config loads and validates devloop.yaml, the project file that
// tells devloop what to build, where to load it and what to deploy.
//
// Loading is strict: unknown fields, wrong types, missing required fields and
// invalid values are reported as [*Error] values that carry the file, line,
// column and field path of the problem, so the CLI can print
//
//	devloop.yaml:14: artifacts[1].context: directory "web" does not exist
//
// or emit the position as a structured event. Several problems found at once
// are joined with [errors.Join]; each stays an *Error.
//
// Defaults are applied in one place (setDefaults) and every path in a loaded
// [Config] is absolute, resolved against the directory of the config file.
//
// Profiles patch the file before it is decoded, in the order they are
// requested: mappings (deploy, target, buildArgs, …) merge key by key with the
// profile winning; artifacts merge by image name (a known image is patched,
// a new one is appended); every other list (portForward, manifests, ignore,
// imagePaths) is replaced as a whole.
//
// The package also resolves the kube context the way kubectl does
// ([ResolveKube]). It does not decide whether a context is safe to use, talk
// to a cluster or watch the file; those belong to the callers.
//
// The JSON Schema in schema/devloop.schema.json at the repository root
// describes the same file for editors; tests keep the two in agreement.
package config
