package syscalls

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/loader"
	"ringbox/guestkernel/mm"
)

func init() {
	register(unix.SYS_EXECVE, func(t *kernel.Task, a Args) (uintptr, error) {
		return execveAt(t, unix.AT_FDCWD, a[0], a[1], a[2], 0)
	})
	register(unix.SYS_EXECVEAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return execveAt(t, int(int32(a[0])), a[1], a[2], a[3], int(a[4]))
	})
}

// Limits of execve's arguments, as Linux's.
const (
	maxArgStrings = 0x7fffffff
	maxInterpHops = 4 // nested "#!" interpreters
)

// argBytesLimit is how much argv and envp may take together (the strings
// with their NULs, and a pointer each): a quarter of the caller's
// RLIMIT_STACK, at least 128 KiB (ARG_MAX) and at most 6 MiB (three
// quarters of the default 8 MiB stack's room), as Linux's. glibc's
// sysconf(_SC_ARG_MAX), which xargs sizes its command lines by, reads
// the same quarter.
func argBytesLimit(t *kernel.Task) int {
	const lo, hi = 128 << 10, 6 << 20
	q := t.TG.Limit(unix.RLIMIT_STACK).Cur / 4
	if q > hi {
		return hi
	}
	return max(int(q), lo)
}

// copyStrings reads a NULL-terminated array of strings; *budget is the
// bytes argv and envp have left (E2BIG past it).
func copyStrings(t *kernel.Task, addr uintptr, budget *int) ([]string, error) {
	var out []string
	for i := 0; addr != 0; i++ {
		if i >= maxArgStrings {
			return nil, unix.E2BIG
		}
		p, err := t.MM.CopyInUint64(addr + uintptr(8*i))
		if err != nil {
			return nil, err
		}
		if p == 0 {
			break
		}
		s, err := t.MM.CopyInString(uintptr(p), loader.MaxArgStrLen-1)
		if err != nil {
			if errors.Is(err, mm.ErrStringTooLong) {
				return nil, unix.E2BIG
			}
			return nil, err
		}
		*budget -= len(s) + 1 + 8
		if *budget < 0 {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
	return out, nil
}

// execFile is a program file opened in the sandbox for execve.
type execFile struct {
	impl fs.Impl
	size int64
	path string // absolute, in the sandbox
	// mode, uid and gid are the file's; nosuid its mount's NoSuid.
	mode     uint32
	uid, gid uint32
	nosuid   bool
}

// setIDs returns the effective IDs that executing e gives a process
// (NoChange for either that stays): a set-user-ID file's owner, a
// set-group-ID (and group-executable) file's group, unless its mount is
// nosuid, the process set no_new_privs, or a tracer traces it (Linux
// lets only a tracer with CAP_SYS_PTRACE keep one; the sandbox's never
// do).
func (e execFile) setIDs(t *kernel.Task) (euid, egid uint32) {
	euid, egid = kernel.NoChange, kernel.NoChange
	if e.nosuid || t.TG.NoNewPrivs() || t.Traced() {
		return
	}
	if e.mode&unix.S_ISUID != 0 {
		euid = e.uid
	}
	if e.mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP {
		egid = e.gid
	}
	return
}

func (e execFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.impl.Pread(p, off)
	if n < len(p) && err == nil {
		err = io.EOF
	}
	return n, err
}

func (e execFile) Size() int64 { return e.size }

// Pager implements mm.PagedExecutable: the file's page cache, if its tree
// has one that outlives the open file.
func (e execFile) Pager() mm.Pager {
	if sp, ok := e.impl.(fs.StablePager); ok {
		if p := sp.StablePager(); p != nil {
			return p
		}
	}
	return nil
}

// openExec opens path for execution (EACCES unless a regular file with an
// x bit the caller may use).
func openExec(t *kernel.Task, start *fs.Dentry, path string, follow bool) (execFile, error) {
	d, err := t.K.VFS.For(searcher(t)).Resolve(start, t.TG.FSRoot(), path, follow)
	if err != nil {
		return execFile{}, err
	}
	st, err := d.Node().Stat()
	if err != nil {
		return execFile{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || d.Mount().Has(fs.NoExec) {
		return execFile{}, unix.EACCES
	}
	if err := permitted(t, &st, 1); err != nil {
		return execFile{}, err
	}
	impl, err := d.Node().Open(unix.O_RDONLY)
	if err != nil {
		return execFile{}, err
	}
	return execFile{impl: impl, size: st.Size, path: d.Path(t.TG.FSRoot()),
		mode: st.Mode, uid: st.Uid, gid: st.Gid, nosuid: d.Mount().Has(fs.NoSuid)}, nil
}

func execveAt(t *kernel.Task, dirfd int, pathAddr, argvAddr, envpAddr uintptr, flags int) (uintptr, error) {
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	if t.K.VFS == nil {
		return 0, noFS
	}
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	budget := argBytesLimit(t)
	argv, err := copyStrings(t, argvAddr, &budget)
	if err != nil {
		return 0, err
	}
	envp, err := copyStrings(t, envpAddr, &budget)
	if err != nil {
		return 0, err
	}
	start := t.TG.Cwd()
	if path == "" || path[0] != '/' {
		if path == "" && flags&unix.AT_EMPTY_PATH == 0 {
			return 0, unix.ENOENT
		}
		if dirfd != unix.AT_FDCWD {
			f, err := t.File(dirfd)
			if err != nil {
				return 0, err
			}
			if f.Dentry == nil {
				return 0, unix.EBADF
			}
			start = f.Dentry
			if path == "" {
				path = "."
			}
		}
	}
	execfn := path
	follow := flags&unix.AT_SYMLINK_NOFOLLOW == 0
	var f execFile
	for hop := 0; ; hop++ {
		if f, err = openExec(t, start, path, follow); err != nil {
			return 0, err
		}
		// "#!" scripts: run the interpreter with the script's path.
		var head [loader.ShebangMax]byte
		n, _ := f.ReadAt(head[:], 0)
		interp, arg, ok := loader.Shebang(head[:n])
		if !ok {
			if n >= 2 && head[0] == '#' && head[1] == '!' {
				f.impl.Release()
				return 0, unix.ENOEXEC
			}
			break
		}
		f.impl.Release()
		if hop == maxInterpHops {
			return 0, unix.ELOOP
		}
		newArgv := []string{interp}
		if arg != "" {
			newArgv = append(newArgv, arg)
		}
		newArgv = append(newArgv, path)
		if len(argv) > 1 {
			newArgv = append(newArgv, argv[1:]...)
		}
		argv, path, follow = newArgv, interp, true
	}
	defer f.impl.Release()
	if _, err := loader.Parse(f, f.size); err != nil {
		return 0, unix.ENOEXEC
	}
	m, err := mm.New(t.K.Platform, t.K.Mem)
	if err != nil {
		return 0, err
	}
	c := t.TG.Creds()
	setUID, setGID := f.setIDs(t)
	euid, egid := c.EUID, c.EGID
	if setUID != kernel.NoChange {
		euid = setUID
	}
	if setGID != kernel.NoChange {
		egid = setGID
	}
	secure := euid != c.UID || egid != c.GID
	res, err := m.Load(mm.ExecArgs{
		File: f, Path: execfn, Exe: f.path, Argv: argv, Envp: envp,
		UID: c.UID, EUID: euid, GID: c.GID, EGID: egid, Secure: secure,
		HWCap: t.K.HWCap, VDSO: t.K.VDSO,
		Rlimits: t.TG.MMLimits(),
		OpenInterp: func(p string) (mm.Executable, error) {
			return openExec(t, t.TG.Cwd(), p, true)
		},
	})
	if err != nil {
		m.Release()
		switch {
		case errors.Is(err, loader.ErrTooBig):
			return 0, unix.E2BIG
		case errors.Is(err, mm.ErrOutOfMemory), errors.Is(err, unix.ENOMEM):
			return 0, unix.ENOMEM
		case errors.Is(err, mm.ErrInterp):
			return 0, unix.ELIBBAD
		}
		return 0, unix.ENOEXEC
	}
	formerTID := t.TID
	if err := t.Exec(m, res.Entry, res.SP); err != nil {
		// Another thread's exit or execve won: this one is ending.
		m.Release()
		return 0, kernel.ErrRestartNoIntr
	}
	t.TG.ExecCreds(setUID, setGID)
	// Not dumpable when running with other IDs than the real ones, or a
	// program its caller may not read (Linux's would_dump): a process
	// of the caller's may not look into it.
	fileSt := unix.Stat_t{Mode: f.mode, Uid: f.uid, Gid: f.gid}
	t.TG.SetDumpable(!secure && permitted(t, &fileSt, 4) == nil)
	if euid != c.EUID || egid != c.EGID {
		t.PDeathSig = 0 // as Linux clears it for a set-ID program
	}
	t.PtraceExec(formerTID)
	return 0, nil
}
