package kernel

// exitFutexes does what a dying thread owes the threads it shares memory
// with (futex.go): its robust futexes are marked OWNER_DIED and handed on,
// and CLONE_CHILD_CLEARTID's word is zeroed and woken (pthread_join waits
// on it), unless no other task uses the address space.
func (t *Task) exitFutexes() {
	t.ExitRobustList()
	addr := t.ClearChildTID
	if addr == 0 {
		return
	}
	t.ClearChildTID = 0
	t.K.mu.Lock()
	shared := t.K.procs.mmUsers[t.MM] > 1
	t.K.mu.Unlock()
	if shared {
		t.K.FutexWakeAddr(t.MM, addr)
	}
}
