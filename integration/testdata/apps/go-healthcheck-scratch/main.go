// Command server is a small HTTP service; with -healthcheck it probes a
// running instance's /healthz and exits 0 or 1, for a HEALTHCHECK in an
// image without a shell.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	healthcheck := flag.Bool("healthcheck", false, "probe the running server and exit")
	flag.Parse()
	addr := "127.0.0.1:" + os.Getenv("PORT")
	if *healthcheck {
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://" + addr + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		os.Exit(0)
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello from scratch, uid %d\n", os.Getuid())
	})
	log.Fatal(http.ListenAndServe(addr, nil))
}
