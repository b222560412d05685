package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// OCI hooks: programs config.json names, which the runtime runs on the
// host at points of a container's life with its state on stdin. Docker's
// bridge network is one (libnetwork-setkey, a prestart hook, tells dockerd
// the sandbox process's network namespace, which dockerd then fills with
// its interface and routes).
//
// Where they run here:
//   - prestart, createRuntime and createContainer: by create, once the
//     sandbox process is set up, before create returns (status
//     "creating"); a failure fails create and removes the container.
//     runc runs createContainer in the container's mount namespace before
//     pivot_root, where a path still resolves from the host's root, as
//     here.
//   - startContainer would run inside the container: never run, noted.
//   - poststart: by start, after the program was let go (status
//     "running"); a failure kills the sandbox process and fails start.
//   - poststop: by delete (and run, and a create that failed), once the
//     sandbox process is gone (status "stopped"); a failure is a warning.
//
// The state is "creating" until create returns (ROOT/ID/creating).

type ociHook struct {
	Path    string   `json:"path"`
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"`
	Timeout *int     `json:"timeout,omitempty"`
}

type ociHooks struct {
	Prestart        []ociHook `json:"prestart,omitempty"`
	CreateRuntime   []ociHook `json:"createRuntime,omitempty"`
	CreateContainer []ociHook `json:"createContainer,omitempty"`
	StartContainer  []ociHook `json:"startContainer,omitempty"`
	Poststart       []ociHook `json:"poststart,omitempty"`
	Poststop        []ociHook `json:"poststop,omitempty"`
}

// createHooks are the hooks create runs, in runc's order.
func (h *ociHooks) createHooks() []namedHook {
	if h == nil {
		return nil
	}
	var out []namedHook
	for _, x := range []struct {
		name  string
		hooks []ociHook
	}{{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer}} {
		for _, hk := range x.hooks {
			out = append(out, namedHook{x.name, hk})
		}
	}
	return out
}

type namedHook struct {
	kind string
	ociHook
}

// check reports a hook config.json gets wrong (the spec: an absolute
// path, a positive timeout).
func (h *ociHook) check() error {
	if !filepath.IsAbs(h.Path) {
		return fmt.Errorf("path %q is not absolute", h.Path)
	}
	if h.Timeout != nil && *h.Timeout <= 0 {
		return fmt.Errorf("%s: timeout %d is not positive", h.Path, *h.Timeout)
	}
	return nil
}

// checkHooks checks every hook of a config.
func (h *ociHooks) check() error {
	if h == nil {
		return nil
	}
	for kind, list := range map[string][]ociHook{"prestart": h.Prestart, "createRuntime": h.CreateRuntime,
		"createContainer": h.CreateContainer, "startContainer": h.StartContainer, "poststart": h.Poststart, "poststop": h.Poststop} {
		for _, hk := range list {
			if err := hk.check(); err != nil {
				return fmt.Errorf("hooks.%s: %w", kind, err)
			}
		}
	}
	return nil
}

// hookOutputMax bounds what of a hook's output is kept for its error.
const hookOutputMax = 4096

// capped keeps the first hookOutputMax bytes written to it.
type capped struct{ bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := hookOutputMax - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// run runs the hook with state on its stdin: exactly its args (args[0]
// is its argv[0]) and env, killed after its timeout. Its output is kept
// for the error only.
func (h *ociHook) run(kind string, state *ociState) error {
	if err := h.check(); err != nil {
		return fmt.Errorf("hooks.%s: %w", kind, err)
	}
	js, err := json.Marshal(state)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	}
	// Without env, the runtime's own environment, as runc's hooks get.
	cmd.Env = h.Env
	cmd.Stdin = bytes.NewReader(js)
	var out capped
	cmd.Stdout, cmd.Stderr = &out, &out
	// A hook that leaves a child holding its output is done when it
	// exits, not when the child closes the pipe.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %d s", *h.Timeout)
	} else if errors.Is(err, exec.ErrWaitDelay) {
		return nil
	}
	msg := strings.TrimSpace(out.String())
	if msg != "" {
		msg = ": " + oneLine(msg)
	}
	return fmt.Errorf("hooks.%s %s: %w%s", kind, h.Path, err, msg)
}

// runPostHooks runs poststop hooks; a failure is a warning, as the spec
// has it, and the others still run.
func runPostHooks(kind string, hooks []ociHook, state *ociState) {
	for _, h := range hooks {
		if err := h.run(kind, state); err != nil {
			fmt.Fprintf(os.Stderr, "ringbox: warning: %v\n", err)
		}
	}
}

func (h *ociHooks) poststart() []ociHook {
	if h == nil {
		return nil
	}
	return h.Poststart
}

// ociPoststop runs a container's poststop hooks before delete removes its
// state: the sandbox process is gone by then.
func ociPoststop(dir string) {
	s, err := ociLoad(dir)
	if err != nil {
		return
	}
	if h := ociBundleHooks(s.Bundle); h != nil {
		s.Status, s.Pid = "stopped", 0
		runPostHooks("poststop", h.Poststop, s)
	}
}

// ociBundleHooks reads the hooks of a container's bundle, for start and
// delete (which have only its state). A bundle that is gone has none.
func ociBundleHooks(bundle string) *ociHooks {
	s, err := readOCISpec(bundle)
	if err != nil {
		return nil
	}
	return s.Hooks
}
