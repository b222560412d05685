package vmm

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// TestShootdown: a second context runs user code that reads a page in a
// loop, in the same address space as the test. The test unmaps the page
// and calls Invalidate: it must return (the other vCPU was kicked out of
// user mode), and the other vCPU must then fault on the page rather than
// go on reading it through a stale TLB entry. Both modes.
func TestShootdown(t *testing.T) {
	inBothModes(t, func(t *testing.T, k *KVM, ring0Mode bool) {
		m, mem, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 2, Ring0: ring0Mode})
		require.NoError(t, err)
		as, err := m.NewAddressSpace()
		require.NoError(t, err)
		code, err := mem.Alloc()
		require.NoError(t, err)
		copy(memfile.Page(code), []byte{
			0x48, 0x8b, 0x04, 0x25, 0, 0, 0x20, 0, // mov 0x200000, %rax
			0xeb, 0xf6, // jmp back to the mov
		})
		_, err = as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
		require.NoError(t, err)
		data, err := mem.Alloc()
		require.NoError(t, err)
		_, err = as.Tables().Map(0x200000, data, memfile.PageSize, pagetables.Opts{User: true})
		require.NoError(t, err)

		events := make(chan platform.Event, 4)
		errs := make(chan error, 1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ctx, err := m.NewContext()
			if err != nil {
				errs <- err
				return
			}
			defer ctx.Release()
			regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
			for {
				ev, err := ctx.Switch(as, &regs)
				if err != nil {
					errs <- err
					return
				}
				if ev.Kind == platform.EventInterrupted {
					continue // Go's scheduler took the thread back for a while
				}
				events <- ev
				if ev.Kind == platform.EventPageFault {
					errs <- nil
					return
				}
			}
		}()
		// Let it spin in user mode, then take the page away.
		time.Sleep(200 * time.Millisecond)
		select {
		case ev := <-events:
			t.Fatalf("the loop stopped before the unmap: %+v", ev)
		case err := <-errs:
			t.Fatalf("the loop failed before the unmap: %v", err)
		default:
		}
		_, err = as.Tables().TryUnmap(0x200000, memfile.PageSize)
		require.NoError(t, err)
		done := make(chan struct{})
		go func() { as.Invalidate(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("Invalidate did not return: the running vCPU was not kicked out of user mode")
		}
		select {
		case err := <-errs:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("the other vCPU goes on reading the unmapped page (stale TLB)")
		}
		var last platform.Event
		for len(events) > 0 {
			last = <-events
		}
		require.Equal(t, platform.EventPageFault, last.Kind)
		require.Equal(t, uint64(0x200000), last.Addr, "%+v", last)
	})
}
