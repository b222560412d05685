// Package kvmtest decides, for tests that need KVM, whether they run here,
// fail, or skip because the x86 lane (tools/x86lane) runs them instead.
//
// A host without a usable /dev/kvm skips them with one line saying why and
// where they run. With RINGBOX_REQUIRE_KVM=1 (set by .ci/run and the lane
// wherever KVM exists) a missing or broken KVM is a failure, never a skip.
package kvmtest
