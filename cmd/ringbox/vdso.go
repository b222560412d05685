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
	var img []byte
	if mode == "auto" || mode == "host" {
		h, b, why := hostVDSO(p)
		if h == nil && mode == "host" {
			return nil, fmt.Errorf("--vdso=host: %v", why)
		}
		if h == nil {
			log.Debug("vDSO: system call stubs", "why", why)
		}
		host, img = h, b
	}
	if host == nil {
		b, err := vdso.Image(nil)
		if err != nil {
			return nil, fmt.Errorf("build the vDSO: %w", err)
		}
		img = b
	}
	v, err := vdso.Load(mem, img, host)
	if err != nil {
		return nil, fmt.Errorf("build the vDSO: %w", err)
	}
	if host != nil {
		log.Debug("vDSO: the host's clock code", "data", fmt.Sprintf("%#x-%#x", host.DataStart, host.DataEnd),
			"guest-physical", fmt.Sprintf("%#x", host.DataPhys), "text", len(host.Text))
	}
	return v, nil
}

// hostVDSO returns the host's vDSO and the image built on it if the
// platform can run its clock code and the image can use it, or why not.
// The platform is asked last: in exit mode its yes adds a memory slot.
func hostVDSO(p platform.Platform) (*vdso.Host, []byte, error) {
	hc, ok := p.(platform.HostClock)
	if !ok {
		return nil, nil, fmt.Errorf("platform %s cannot run host code", p.Name())
	}
	h, err := vdso.FindHost()
	if err != nil {
		return nil, nil, err
	}
	img, err := vdso.Image(h.Text)
	if err != nil {
		return nil, nil, err
	}
	gpa, ok, err := hc.HostClockData(h.DataStart, h.DataEnd)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("platform %s cannot run the host's clock code", p.Name())
	}
	h.DataPhys = gpa
	return h, img, nil
}
