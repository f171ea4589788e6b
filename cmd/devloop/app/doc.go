// Package app is devloop's command line: one file per command, each wiring the stages
// from pkg/ and calling into them. No pipeline logic lives here.
package app
