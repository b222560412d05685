package main

import (
	"sync"
	"testing"
)

func TestSpinDeterministic(t *testing.T) {
	if Spin(1, 1000) != Spin(1, 1000) {
		t.Fatal("Spin is not deterministic")
	}
	if Spin(1, 1000) == Spin(2, 1000) {
		t.Fatal("Spin ignores its seed")
	}
}

func TestSpinParallel(t *testing.T) {
	want := Spin(5, 10000)
	var wg sync.WaitGroup
	errs := make(chan uint64, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := Spin(5, 10000); got != want {
				errs <- got
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("Spin(5, 10000) = %x in a goroutine, want %x", got, want)
	}
}
