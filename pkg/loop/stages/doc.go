// Package stages adapts devloop's real stages (packages build, deploy and a
// cluster's API) to the small interfaces of package loop, so the Engine never
// depends on BuildKit or client-go and its tests run on fakes.
//
// It holds no pipeline logic: each adapter translates types and calls through.
package stages
