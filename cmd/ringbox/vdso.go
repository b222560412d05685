package main

import (
	"fmt"
	"log/slog"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/guestkernel/platform"
	"ringbox/guestkernel/vdso"
)

// buildVDSO makes the programs' vDSO for --vdso=mode: with the host's
// clock code where the platform can run it (auto, host), or of system
// call stubs (stubs, and auto elsewhere), or none (off). It reads
// /proc/self/maps, so it runs before ringbox confines itself.
func buildVDSO(p platform.Platform, mem *memfile.File, mode string, log *slog.Logger) (*mm.VDSO, error) {
	if mode == "off" {
		return nil, nil
	}
	var host *vdso.Host
	if mode == "auto" || mode == "host" {
		h, why := hostVDSO(p)
		if h == nil && mode == "host" {
			return nil, fmt.Errorf("--vdso=host: %v", why)
		}
		if h == nil {
			log.Debug("vDSO: system call stubs", "why", why)
		}
		host = h
	}
	v, err := vdso.Build(mem, host)
	if err != nil {
		return nil, fmt.Errorf("build the vDSO: %w", err)
	}
	if host != nil {
		log.Debug("vDSO: the host's clock code", "data", fmt.Sprintf("%#x-%#x", host.DataStart, host.DataEnd),
			"guest-physical", fmt.Sprintf("%#x", host.DataPhys), "text", len(host.Text))
	}
	return v, nil
}

// hostVDSO returns the host's vDSO if the platform can run its clock code
// and the image can use it, or why not.
func hostVDSO(p platform.Platform) (*vdso.Host, error) {
	hc, ok := p.(platform.HostClock)
	if !ok {
		return nil, fmt.Errorf("platform %s cannot run host code", p.Name())
	}
	h, err := vdso.FindHost()
	if err != nil {
		return nil, err
	}
	if _, err := vdso.Image(h.Text); err != nil {
		return nil, err
	}
	gpa, ok, err := hc.HostClockData(h.DataStart, h.DataEnd)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("platform %s cannot run the host's clock code", p.Name())
	}
	h.DataPhys = gpa
	return h, nil
}
