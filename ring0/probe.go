package ring0

func probeAddrs() (sys, write uintptr)

// ProbeEntryPoints returns the addresses of the PVM experiments in
// probe_amd64.s: SYSCALL executed in supervisor mode, and a loop of
// narrow page-table writes.
func ProbeEntryPoints() (syscall, write uintptr) { return probeAddrs() }

func probeFSAddr() uintptr

// ProbeFSBase returns the address of the WRFSBASE/RDFSBASE experiment.
func ProbeFSBase() uintptr { return probeFSAddr() }
