// gohttp: a Go net/http server and client in one process, over 127.0.0.1
// and ::1: GETs, a 1 MiB POST echoed back, keep-alive, and a shutdown.
// The output is the same natively and in the sandbox.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func must(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s\n", r.URL.Query().Get("name"))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(b)
	})
	client := &http.Client{Timeout: 2 * time.Minute}
	for _, c := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		ln, err := net.Listen(c.network, c.addr)
		must(err)
		srv := &http.Server{Handler: mux}
		go srv.Serve(ln)
		base := "http://" + ln.Addr().String()
		for _, name := range []string{"alpha", "beta", "gamma"} {
			resp, err := client.Get(base + "/hello?name=" + name)
			must(err)
			b, err := io.ReadAll(resp.Body)
			must(err)
			resp.Body.Close()
			fmt.Printf("%s: %s %s", c.network, resp.Status, b)
		}
		body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
		resp, err := client.Post(base+"/echo", "application/octet-stream", bytes.NewReader(body))
		must(err)
		b, err := io.ReadAll(resp.Body)
		must(err)
		resp.Body.Close()
		fmt.Printf("%s: echo %s %d bytes, sha256 %x\n", c.network, resp.Status, len(b), sha256.Sum256(b))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		must(srv.Shutdown(ctx))
		cancel()
		_, err = client.Get(base + "/hello")
		fmt.Printf("%s: after shutdown, error %v\n", c.network, err != nil)
	}
	fmt.Println("done")
}
