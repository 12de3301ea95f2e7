// modzip writes one version of a Go module into a module proxy directory (the GOPROXY protocol
// as files, servable with GOPROXY=file://DIR or any static web server):
//
//	OUT/<escaped module path>/@v/list          every version in OUT, one a line (semver order)
//	OUT/<escaped module path>/@v/VERSION.info  {"Version": VERSION, "Time": TIME}
//	OUT/<escaped module path>/@v/VERSION.mod   the module's go.mod
//	OUT/<escaped module path>/@v/VERSION.zip   the module zip
//
//	go run . -dir STAGED_MODULE -version v0.1.0 -time 2026-01-02T03:04:05Z -out dist/goproxy
//
// The zip is made by golang.org/x/mod/zip, the code the go command itself uses to create and
// verify module zips, so the size limits, path rules, vendor/ and nested-module exclusions and
// file ordering are the go command's own rather than a hand-written approximation. Any file of
// the directory the zip would leave out or reject is an error here: the staging directory is
// supposed to hold exactly the module's content.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

func main() {
	dir := flag.String("dir", "", "the module's root directory (holding go.mod)")
	version := flag.String("version", "", "the version to publish, e.g. v0.1.0")
	when := flag.String("time", "", "the version's time (RFC 3339), e.g. the release commit's date")
	out := flag.String("out", "", "the proxy directory (created if needed)")
	flag.Parse()
	if *dir == "" || *version == "" || *when == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dir, *version, *when, *out); err != nil {
		fmt.Fprintln(os.Stderr, "modzip:", err)
		os.Exit(1)
	}
}

func run(dir, version, when, out string) error {
	t, err := time.Parse(time.RFC3339, when)
	if err != nil {
		return fmt.Errorf("-time: %w", err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return fmt.Errorf("%s/go.mod has no module line", dir)
	}
	mv := module.Version{Path: path, Version: version}
	// Canonical semver, and a major version that matches the path (/v2 ... suffix rules).
	if err := module.Check(path, version); err != nil {
		return err
	}
	if semver.Canonical(version) != version {
		return fmt.Errorf("version %q is not canonical (want %q)", version, semver.Canonical(version))
	}

	// What the go command would leave out or refuse; either means the staging is wrong.
	files, err := zip.CheckDir(dir)
	if err != nil {
		return fmt.Errorf("module directory %s: %w\n%s", dir, err, describe(files))
	}
	if len(files.Omitted) > 0 {
		return fmt.Errorf("module directory %s holds files a module zip omits:\n%s", dir, describe(files))
	}

	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	zipPath := filepath.Join(vdir, version+".zip")
	if err := writeZip(zipPath, mv, dir); err != nil {
		return err
	}
	// The zip must read back as the go command will check it after download.
	if _, err := zip.CheckZip(mv, zipPath); err != nil {
		return fmt.Errorf("%s: %w", zipPath, err)
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".mod"), gomod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, t.UTC()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".info"), append(info, '\n'), 0o644); err != nil {
		return err
	}
	if err := addToList(filepath.Join(vdir, "list"), version); err != nil {
		return err
	}
	// The go.sum lines a consumer will record (h1: the hash `go mod download -json` reports).
	h1, err := dirhash.HashZip(zipPath, dirhash.Hash1)
	if err != nil {
		return err
	}
	h1mod, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(vdir, version+".mod"))
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s %s %s\n%s %s/go.mod %s\n", path, version, h1, path, version, h1mod)
	return nil
}

func writeZip(name string, mv module.Version, dir string) (err error) {
	tmp := name + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, name)
		} else {
			os.Remove(tmp)
		}
	}()
	return zip.CreateFromDir(f, mv, dir)
}

// addToList adds version to the @v/list file (kept sorted, one version a line): publishing
// v0.2.0 into the same directory keeps v0.1.0 listed.
func addToList(name, version string) error {
	var versions []string
	if b, err := os.ReadFile(name); err == nil {
		for _, v := range strings.Fields(string(b)) {
			if v != version {
				versions = append(versions, v)
			}
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	versions = append(versions, version)
	sort.Slice(versions, func(i, j int) bool { return semver.Compare(versions[i], versions[j]) < 0 })
	return os.WriteFile(name, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

func describe(files zip.CheckedFiles) string {
	var b strings.Builder
	for _, f := range files.Omitted {
		fmt.Fprintf(&b, "  omitted %s: %v\n", f.Path, f.Err)
	}
	for _, f := range files.Invalid {
		fmt.Fprintf(&b, "  invalid %s: %v\n", f.Path, f.Err)
	}
	if files.SizeError != nil {
		fmt.Fprintf(&b, "  size: %v\n", files.SizeError)
	}
	return b.String()
}
