mkdir -p gp && cd gp && cat > main.go <<'G'
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	c1 := exec.Command("sh", "-c", "seq 1 1000")
	c2 := exec.Command("wc", "-l")
	c2.Stdin, _ = c1.StdoutPipe()
	var out strings.Builder
	c2.Stdout = &out
	c2.Start()
	c1.Run()
	c2.Wait()
	fmt.Println("pipeline", strings.TrimSpace(out.String()))
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	fmt.Println("signal", <-ch)
	u, _ := net.ListenPacket("udp", "127.0.0.1:0")
	go func() { b := make([]byte, 10); n, a, _ := u.ReadFrom(b); u.WriteTo(b[:n], a) }()
	cl, _ := net.Dial("udp", u.LocalAddr().String())
	cl.Write([]byte("udp!"))
	b := make([]byte, 10)
	n, _ := cl.Read(b)
	fmt.Println("udp", string(b[:n]))
	t := time.NewTicker(10 * time.Millisecond)
	for i := 0; i < 5; i++ {
		<-t.C
	}
	fmt.Println("ticks done")
	err := exec.Command("sh", "-c", "exit 9").Run()
	fmt.Println("exit", err.(*exec.ExitError).ExitCode())
}
G
cat > go.mod <<'G'
module gp
go 1.26
G
GOCACHE=$PWD/.cache GOFLAGS=-mod=mod go vet . && echo vet ok
GOCACHE=$PWD/.cache go run .
