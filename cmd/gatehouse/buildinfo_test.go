package main

import (
	"runtime/debug"
	"testing"
)

// Where the version, commit and date come from: a release's ldflags first,
// then `go install module@version` (a tag, or a pseudo-version naming the
// commit), then the VCS stamp of a build in a checkout.
func TestVersion_Sources(t *testing.T) {
	stamp := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.time", Value: "2026-11-29T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	for _, c := range []struct {
		name                  string
		info                  *debug.BuildInfo
		version, commit, date string
		want                  build
	}{
		{"release", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: stamp}, "v1.2.0", "abc123", "2026-11-30T12:00:00Z",
			build{Version: "v1.2.0", Commit: "abc123", Date: "2026-11-30T12:00:00Z", Modified: true}},
		{"go install @tag", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "", "", "",
			build{Version: "v1.2.0"}},
		{"go install @commit", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.1-0.20261129100000-0123456789ab"}}, "", "", "",
			build{Version: "v1.2.1-0.20261129100000-0123456789ab", Commit: "0123456789ab", Date: "2026-11-29T10:00:00Z", DateIsCommit: true}},
		{"go build in a checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: stamp}, "", "", "",
			build{Version: "dev", Commit: stamp[0].Value, Date: "2026-11-29T10:00:00Z", DateIsCommit: true, Modified: true}},
		{"nothing", nil, "", "", "", build{Version: "dev"}},
	} {
		if got := describe(c.info, c.version, c.commit, c.date); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
