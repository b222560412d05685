package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ociImage writes an OCI image layout tar (what `ctr image import` takes)
// whose one layer holds files (path -> content, mode 0755) and whose
// config names name; no registry is involved.
func ociImage(t *testing.T, out, name string, files map[string][]byte) {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	dirs := map[string]bool{}
	for p := range files {
		for d := filepath.Dir(p); d != "." && d != "/" && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	for _, d := range []string{"tmp", "proc", "dev", "sys", "etc"} {
		dirs[d] = true
	}
	for d := range dirs {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755}))
	}
	for p, b := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: p, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(b))}))
		_, err := tw.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	blobs := map[string][]byte{}
	put := func(b []byte) (string, int) {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		blobs[hex.EncodeToString(sum[:])] = b
		return d, len(b)
	}
	layerDigest, layerSize := put(layer.Bytes())
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Env": []string{"PATH=/bin"}, "Cmd": []string{"/bin/sleeper"}, "WorkingDir": "/"},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
	})
	cfgDigest, cfgSize := put(cfg)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfgDigest, "size": cfgSize},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": layerSize}},
	})
	mDigest, mSize := put(manifest)
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests": []any{map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mDigest, "size": mSize,
			"annotations": map[string]string{"io.containerd.image.name": name, "org.opencontainers.image.ref.name": "latest"}}},
	})
	f, err := os.Create(out)
	require.NoError(t, err)
	defer f.Close()
	w := tar.NewWriter(f)
	add := func(name string, b []byte) {
		require.NoError(t, w.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))}))
		_, err := w.Write(b)
		require.NoError(t, err)
	}
	add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	add("index.json", index)
	for h, b := range blobs {
		add("blobs/sha256/"+h, b)
	}
	require.NoError(t, w.Close())
}

// TestContainerd (issue 14): a real containerd, started here with its
// state in a temporary directory, runs containers of a locally built
// image through its runc shim with ringbox as the runtime binary: a
// command's exit status, ctr task kill, ctr task exec in a running
// container, and no state left after ctr task delete.
func TestContainerd(t *testing.T) {
	recordInputs(t)
	for _, b := range []string{"containerd", "ctr", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("%s is needed (.ci/run installs Debian's containerd): %v", b, err)
		}
	}
	dir, err := os.MkdirTemp("", "ctd")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "ctd.sock")
	runcRoot := filepath.Join(dir, "runc")
	cfg := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644))
	var dlog bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := exec.CommandContext(ctx, "containerd", "--config", filepath.Join(dir, "config.toml"))
	d.Stdout, d.Stderr = &dlog, &dlog
	require.NoError(t, d.Start())
	defer func() {
		cancel()
		d.Wait()
		if t.Failed() {
			t.Logf("containerd's log:\n%s", tail(dlog.Bytes(), 6000))
		}
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(sock); return err == nil }, time.Minute, 50*time.Millisecond,
		"containerd did not start")

	ctrCmd := func(args ...string) (string, int) {
		c := exec.Command("ctr", append([]string{"-a", sock, "-n", "rbtest"}, args...)...)
		out, err := c.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("ctr %v: %v", args, err)
		}
		t.Logf("ctr %s: status %d\n%s", strings.Join(args, " "), code, out)
		return string(out), code
	}
	files := map[string][]byte{}
	for _, p := range []string{"sleeper", "exitcode"} {
		b, err := os.ReadFile(prog(p))
		require.NoError(t, err)
		files["bin/"+p] = b
	}
	img := filepath.Join(dir, "img.tar")
	const name = "docker.io/library/rbtest:latest"
	ociImage(t, img, name, files)
	_, code := ctrCmd("image", "import", img)
	require.Equal(t, 0, code, "image import")

	run := []string{"run", "--snapshotter", "native", "--runc-binary", ringboxBin, "--runc-root", runcRoot}
	// A command and its exit status.
	out, code := ctrCmd(append(run, "--rm", name, "c1", "/bin/exitcode", "3")...)
	require.Equal(t, 3, code, "the container's exit status")
	require.Contains(t, out, "exiting with 3")

	// -t: a terminal over the console socket. ctr wants one itself:
	// script(1) gives it a pseudo-terminal.
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script(1) is needed (util-linux): %v", err)
	}
	ctrLine := "ctr -a " + sock + " -n rbtest " + strings.Join(append(run, "-t", "--rm", name, "c3", "/bin/exitcode", "6"), " ")
	sc := exec.Command("script", "-qec", ctrLine, "/dev/null")
	scOut, err := sc.CombinedOutput()
	t.Logf("script %s: %v\n%s", ctrLine, err, scOut)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 6, ee.ExitCode(), "ctr run -t's exit status")
	require.Contains(t, string(scOut), "exiting with 6\r", "the program wrote to a terminal (ONLCR)")

	// A long-running container: exec in it, then kill it.
	_, code = ctrCmd(append(run, "-d", name, "c2")...)
	require.Equal(t, 0, code)
	require.Eventually(t, func() bool { o, _ := ctrCmd("task", "ls"); return strings.Contains(o, "RUNNING") },
		time.Minute, 200*time.Millisecond)
	out, code = ctrCmd("task", "exec", "--exec-id", "e1", "c2", "/bin/exitcode", "4")
	require.Equal(t, 4, code, "ctr task exec's status")
	require.Contains(t, out, "exiting with 4")
	// SIGKILL: the program is its namespace's init and has no handler
	// for SIGTERM, which it ignores as under runc (TestOCISignals).
	_, code = ctrCmd("task", "kill", "-s", "SIGKILL", "c2")
	require.Equal(t, 0, code)
	require.Eventually(t, func() bool { o, _ := ctrCmd("task", "ls"); return strings.Contains(o, "STOPPED") },
		time.Minute, 200*time.Millisecond)
	_, code = ctrCmd("task", "delete", "c2")
	require.Equal(t, 0, code)
	_, code = ctrCmd("container", "delete", "c2")
	require.Equal(t, 0, code)
	ents, _ := os.ReadDir(filepath.Join(runcRoot, "rbtest"))
	require.Empty(t, ents, "ringbox's state under the runc root after delete")
}
