package main

import (
	"fmt"

	"ringbox/vmm"
)

// noKVMHint is the line that follows "backend: none": how to try ringbox
// anyway.
const noKVMHint = "no usable KVM here; to try ringbox anyway, run it in the x86 lane " +
	"(a QEMU guest with an emulated SVM CPU), from a ringbox source tree: " +
	"tools/x86lane/run -c 'ringbox run -- COMMAND'"

func versionCmd() error {
	k, err := vmm.Open()
	if err != nil {
		fmt.Printf("ringbox %s (backend: none: %v)\n", Version, err)
		fmt.Println(noKVMHint)
		return nil
	}
	defer k.Close()
	fmt.Printf("ringbox %s (backend: %v)\n", Version, k.Backend)
	return nil
}
