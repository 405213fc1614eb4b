package ent

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// goldenPrefixes are the module-relative paths `go generate ./...` writes:
// ent's code, gqlgen's executable schema and models, and the SDL (entc
// writes schema/ent.graphql).
var goldenPrefixes = []string{"ent/", "graph/generated/", "graph/model/", "schema/", "gqlgen.yml"}

func goldenCovered(rel string) bool {
	for _, p := range goldenPrefixes {
		if rel == p || strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p) {
			return true
		}
	}
	return false
}

// TestGenerate_NothingChanges proves the committed generated code is what
// `go generate ./...` makes of the committed sources (STYLE: "go generate
// reproduces every generated file"): it regenerates a copy of the tracked
// files and compares. It takes a while, so -short skips it.
func TestGenerate_NothingChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates the module: skipped with -short")
	}
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
	}
	// Stop the generator a little before the test binary's own deadline, so
	// a slow run fails with its output instead of a panic and no diagnosis.
	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-10*time.Second))
		defer cancel()
	}
	run := func(dir, name string, args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}
	root, err := filepath.EvalSymlinks(strings.TrimSpace(string(run(".", "git", "rev-parse", "--show-toplevel"))))
	if err != nil {
		t.Fatal(err)
	}
	modDir, err := filepath.EvalSymlinks("..") // this package is the module's ent/
	if err == nil {
		modDir, err = filepath.Abs(modDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	modRel, err := filepath.Rel(root, modDir)
	if err != nil || strings.HasPrefix(modRel, "..") {
		t.Fatalf("module %s is not inside the repository %s", modDir, root)
	}

	// Copy the working tree's version of every tracked file, keeping the
	// covered ones as they were: the comparison is against this snapshot, not
	// against a tree that others may be editing meanwhile.
	copyRoot := t.TempDir()
	snapshot := map[string][]byte{} // module-relative, slash-separated, under goldenPrefixes
	for _, name := range strings.Split(string(run(root, "git", "ls-files", "-z")), "\x00") {
		if name == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(copyRoot, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		if rel, err := filepath.Rel(modRel, filepath.FromSlash(name)); err == nil && !strings.HasPrefix(rel, "..") {
			if rel = filepath.ToSlash(rel); goldenCovered(rel) {
				snapshot[rel] = data
			}
		}
	}
	copyMod := filepath.Join(copyRoot, modRel)
	run(copyMod, "go", "generate", "./...")

	// Compare the tracked files, and any file generation added in the copy
	// (with the tree's file of that name, if there is one).
	var files []string
	for rel := range snapshot {
		files = append(files, rel)
	}
	err = filepath.WalkDir(copyMod, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(copyMod, path)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); goldenCovered(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	var differ []string
	for _, rel := range files {
		want, ok := snapshot[rel]
		var errTree error
		if !ok {
			want, errTree = os.ReadFile(filepath.Join(modDir, filepath.FromSlash(rel)))
		}
		got, errCopy := os.ReadFile(filepath.Join(copyMod, filepath.FromSlash(rel)))
		switch {
		case errors.Is(errTree, fs.ErrNotExist) && errors.Is(errCopy, fs.ErrNotExist):
		case errors.Is(errTree, fs.ErrNotExist):
			differ = append(differ, rel+" (generated, missing from the tree)")
		case errors.Is(errCopy, fs.ErrNotExist):
			differ = append(differ, rel+" (in the tree, no longer generated)")
		case errTree != nil || errCopy != nil:
			t.Fatalf("%s: %v %v", rel, errTree, errCopy)
		case !bytes.Equal(want, got):
			differ = append(differ, rel)
		}
	}
	if len(differ) > 0 {
		t.Fatalf("go generate ./... would change %d files; run it and commit:\n  %s", len(differ), strings.Join(differ, "\n  "))
	}
}
