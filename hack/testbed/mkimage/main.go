// Command mkimage makes and moves the test bed's base images without any daemon or
// remote registry: it packs a root filesystem tarball as a one-layer linux/amd64 image
// in docker-archive form (what `docker load` and `ctr images import` take) and pushes
// such an archive to the local registry.
//
//	mkimage build -rootfs python.tar -ref docker.io/library/python:3.11-slim -out python-image.tar \
//	    -env LANG=C.UTF-8 -cmd '["python3"]'
//	mkimage push -in python-image.tar -to 127.0.0.1:5001/library/python:3.11-slim
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: mkimage build|push [flags]")
	}
	switch args[0] {
	case "build":
		return build(args[1:])
	case "push":
		return push(args[1:])
	}
	return fmt.Errorf("unknown command %q (want build or push)", args[0])
}

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	rootfs := fs.String("rootfs", "", "root filesystem tarball")
	ref := fs.String("ref", "", "image reference stored in the archive")
	out := fs.String("out", "", "docker-archive to write")
	cmd := fs.String("cmd", "", "Cmd as a JSON array")
	entrypoint := fs.String("entrypoint", "", "Entrypoint as a JSON array")
	workdir := fs.String("workdir", "/", "WorkingDir")
	var env, expose listFlag
	fs.Var(&env, "env", "KEY=VALUE (repeatable)")
	fs.Var(&expose, "expose", "exposed port like 8080/tcp (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rootfs == "" || *ref == "" || *out == "" {
		return errors.New("build needs -rootfs, -ref and -out")
	}
	tag, err := name.NewTag(*ref)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromFile(*rootfs)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *rootfs, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	cfg.Config.WorkingDir = *workdir
	if err := jsonList(*cmd, &cfg.Config.Cmd); err != nil {
		return fmt.Errorf("-cmd: %w", err)
	}
	if err := jsonList(*entrypoint, &cfg.Config.Entrypoint); err != nil {
		return fmt.Errorf("-entrypoint: %w", err)
	}
	if len(expose) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range expose {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return err
	}
	tmp := *out + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	return os.Rename(tmp, *out)
}

func jsonList(s string, dst *[]string) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), dst)
}

func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	in := fs.String("in", "", "docker-archive made by build")
	to := fs.String("to", "", "registry reference to push to (plain HTTP on loopback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *to == "" {
		return errors.New("push needs -in and -to")
	}
	ref, err := name.ParseReference(*to, name.Insecure)
	if err != nil {
		return err
	}
	img, err := tarball.ImageFromPath(*in, nil)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *in, err)
	}
	if err := remote.Write(ref, img); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}
