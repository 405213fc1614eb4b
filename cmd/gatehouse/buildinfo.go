package main

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// Set by a release build: go build -ldflags "-X main.version=v1.2.0
// -X main.commit=… -X main.date=2026-11-30T12:00:00Z" (see `make release`).
var version, commit, date string

// build describes this binary.
type build struct {
	Version, Commit, Date string
	// DateIsCommit says Date is the commit's time (from the VCS stamp), not
	// the build's.
	DateIsCommit bool
	Modified     bool
	Go           string
	Schema       uint
}

// pseudoVersion ends a module version that names a commit:
// v0.0.0-20261130120000-0123456789ab.
var pseudoVersion = regexp.MustCompile(`(\d{14})-([0-9a-f]{12})(\+dirty)?$`)

// buildInfo reads the release's ldflags, and otherwise what the Go toolchain
// recorded: the module version (`go install …@v1.2.0`) and the VCS stamp of
// a build in a checkout.
func buildInfo() build {
	info, _ := debug.ReadBuildInfo()
	b := describe(info, version, commit, date)
	b.Go, b.Schema = runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH, database.SchemaVersion()
	return b
}

// describe fills what the ldflags left empty from the toolchain's record.
func describe(info *debug.BuildInfo, version, commit, date string) build {
	b := build{Version: version, Commit: commit, Date: date}
	if info != nil {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date, b.DateIsCommit = s.Value, true
			case s.Key == "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
		// `go install module@version` records no VCS stamp; a pseudo-version
		// still names the commit and its time.
		if m := pseudoVersion.FindStringSubmatch(b.Version); m != nil && b.Commit == "" {
			b.Commit = m[2]
			if b.Date == "" {
				t := m[1]
				b.Date, b.DateIsCommit = fmt.Sprintf("%s-%s-%sT%s:%s:%sZ", t[0:4], t[4:6], t[6:8], t[8:10], t[10:12], t[12:14]), true
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

func (b build) String() string {
	or := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	commit := or(b.Commit)
	if b.Modified && !strings.HasSuffix(commit, "+dirty") {
		commit += " (with uncommitted changes)"
	}
	dateLabel := "built: "
	if b.DateIsCommit {
		dateLabel = "committed:"
	}
	return fmt.Sprintf("gatehouse %s\ncommit:    %s\n%-10s %s\ngo:        %s\nschema:    %d",
		b.Version, commit, dateLabel, or(b.Date), b.Go, b.Schema)
}
