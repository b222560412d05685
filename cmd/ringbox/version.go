package main

import (
	"fmt"

	"ringbox/vmm"
)

func versionCmd() error {
	k, err := vmm.Open()
	if err != nil {
		fmt.Printf("ringbox %s (backend: none: %v)\n", Version, err)
		return nil
	}
	defer k.Close()
	fmt.Printf("ringbox %s (backend: %v)\n", Version, k.Backend)
	return nil
}
