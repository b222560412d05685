package main

import (
	"errors"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/loader"
	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/vmm"
)

// loadProgram makes an address space with exe loaded as prog, with argv
// and env, for a process of uid/gid (its interpreter is found from cwd).
func loadProgram(machine *vmm.Machine, mem *memfile.File, kern *kernel.Kernel, vfs *fs.VFS, cwd *fs.Dentry,
	exe executable, prog string, argv, env []string, uid, gid uint32, rl mm.Rlimits) (*mm.MM, mm.ExecResult, error) {
	m, err := mm.New(machine, mem)
	if err != nil {
		return nil, mm.ExecResult{}, fail(exitSandbox, "address space: %v", err)
	}
	res, err := m.Load(mm.ExecArgs{
		File: exe, Path: prog, Exe: exe.path, Argv: argv, Envp: env, UID: uid, GID: gid, HWCap: kern.HWCap, VDSO: kern.VDSO,
		Rlimits: rl,
		OpenInterp: func(p string) (mm.Executable, error) {
			f, err := openInTree(vfs, cwd, p)
			if err != nil {
				return nil, err
			}
			return f, nil
		},
	})
	if err != nil {
		if errors.Is(err, loader.ErrTooBig) {
			return nil, res, fail(exitCannotExec, "%s: argument list too long", prog)
		}
		return nil, res, fail(exitCannotExec, "%s: cannot execute: %v", prog, err)
	}
	return m, res, nil
}

// installHostStdio gives the program host descriptors as its 0, 1, 2...:
// hostFDs[i] becomes descriptor i; a closed one stays closed.
func installHostStdio(fds *fs.FDTable, hostFDs []int) error {
	for i, hfd := range hostFDs {
		h, err := fs.NewHostFD(hfd)
		if err != nil {
			continue
		}
		fl, _ := unix.FcntlInt(uintptr(hfd), unix.F_GETFL, 0)
		if err := fds.InstallAt(i, fs.NewFile(h, fl), false); err != nil {
			return err
		}
	}
	return nil
}

// memRlimits are the memory limits among the program's limits (Linux's
// defaults, then --ulimit or an OCI config's), which its address space is
// held to from its exec on.
func (o *runOpts) memRlimits() mm.Rlimits {
	l := kernel.DefaultLimits()
	for r, v := range o.rlimits {
		l[r] = v
	}
	return l.MM()
}
