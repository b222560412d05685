// Package e2e holds ringbox's end-to-end tests. They build the ringbox
// binary, compile the C programs in ../progs with gcc (-static, and
// -static-pie for some), and run each program both natively and under
// `ringbox run`, comparing stdout and exit status byte for byte.
//
// Requirements: Linux x86-64, a usable /dev/kvm (opened read-write), gcc
// with static glibc (libc6-dev), python3, and the go tool on PATH. Without
// KVM every test skips with one line saying that the x86 lane
// (tools/x86lane/run) runs it instead; with RINGBOX_REQUIRE_KVM=1 (set by
// .ci/run and the lane wherever KVM exists) a missing KVM fails the suite.
//
// Running:
//
//	go test ./tests/...                            # default platform
//	RINGBOX_PLATFORM=kvm go test ./tests/...       # passes --platform=kvm
//	RINGBOX_PLATFORM=kvm-exit go test ./tests/...  # passes --platform=kvm-exit
//	go test ./tests/e2e -run 'TestPrograms/fpu' -v # one program
//
// Environment variables:
//
//	RINGBOX_PLATFORM  if set, every `ringbox run` gets --platform=$RINGBOX_PLATFORM
//	RINGBOX_BIN       use this prebuilt ringbox binary instead of building ./cmd/ringbox
//	RINGBOX_PROGS     use the prebuilt programs in this directory (NAME, and NAME-pie
//	                  for the -static-pie ones) instead of compiling ../progs with gcc
//	CC                C compiler to use instead of gcc
//	RINGBOX_REQUIRE_KVM=1  fail, rather than skip, without a usable /dev/kvm
//
// Test caching: the suite registers the module's sources (.go, .s, .c, .h,
// go.mod, go.sum) and the variables above as test inputs, so editing ringbox
// or a program invalidates a cached pass. A RINGBOX_BIN outside the module is
// not tracked: use -count=1 with it (or whenever in doubt).
//
// Every program prints deterministic output only (no addresses or times), so
// a difference between the native and the sandboxed run is a ringbox bug. On
// a mismatch the test logs the exact ringbox command line and both stderrs.
package e2e
