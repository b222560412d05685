// Command spin is the Go program of tests/e2e's real-program tests: it runs
// goroutines on several OS threads at once (each locked to its own thread,
// with channels, a mutex and a WaitGroup between them) and prints results
// that do not depend on scheduling. With -cpu it also prints whether its
// CPU time exceeded its wall time, i.e. whether threads ran in parallel.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

func main() {
	workers := flag.Int("workers", 8, "goroutines, each locked to its own thread")
	steps := flag.Uint64("steps", 3_000_000, "busy-loop steps per goroutine")
	cpu := flag.Bool("cpu", false, "report whether CPU time exceeded wall time")
	flag.Parse()

	start := time.Now()
	var (
		mu   sync.Mutex
		tids = map[int]bool{}
		wg   sync.WaitGroup
	)
	results := make(chan uint64, *workers)
	// Every worker holds its own thread until all have started, so each
	// runs on a thread of its own.
	var started sync.WaitGroup
	started.Add(*workers)
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			mu.Lock()
			tids[syscall.Gettid()] = true
			mu.Unlock()
			started.Done()
			started.Wait()
			results <- Spin(uint64(w), *steps)
		}(w)
	}
	wg.Wait()
	close(results)
	var sum uint64
	for r := range results {
		sum += r
	}
	fmt.Printf("workers %d, checksum %x\n", *workers, sum)
	fmt.Printf("distinct threads: %d\n", len(tids))
	fmt.Printf("GOMAXPROCS >= 1: %v\n", runtime.GOMAXPROCS(0) >= 1)
	if *cpu {
		wall := time.Since(start)
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			fmt.Fprintln(os.Stderr, "getrusage:", err)
			os.Exit(1)
		}
		user := time.Duration(ru.Utime.Nano())
		fmt.Printf("cpus %d, user %v, wall %v, parallel %v\n", runtime.NumCPU(), user.Round(time.Millisecond), wall.Round(time.Millisecond), user > wall)
	}
}

// Spin is a deterministic busy loop (xorshift) of n steps from seed.
func Spin(seed, n uint64) uint64 {
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := uint64(0); i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
