package ring0

// pvmVectors holds the addresses of the 32 exception vector stubs.
var pvmVectors [32]uintptr

// pvmAddrs returns the addresses of the stub's entry points.
func pvmAddrs() (syscall, ret, exc uintptr)

// Entry points of the exit-mode stub, for the pvm backend.
func PVMEntryPoints() (syscall, ret uintptr, vectors [32]uintptr) {
	s, r, _ := pvmAddrs()
	return s, r, pvmVectors
}
