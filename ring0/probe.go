package ring0

func probeAddrs() (sys, write uintptr)

// ProbeEntryPoints returns the addresses of the PVM experiments in
// probe_amd64.s: SYSCALL executed in supervisor mode, and a loop of
// narrow page-table writes.
func ProbeEntryPoints() (syscall, write uintptr) { return probeAddrs() }

func probeFSAddr() uintptr

// ProbeFSBase returns the address of the WRFSBASE/RDFSBASE experiment.
func ProbeFSBase() uintptr { return probeFSAddr() }

func probeTSCAddr() uintptr

// ProbeTSC returns the address of the RDTSC experiment.
func ProbeTSC() uintptr { return probeTSCAddr() }

// ProbeRDTSC reads the time-stamp counter on the calling CPU.
func ProbeRDTSC() uint64
