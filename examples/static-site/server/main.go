// Command server serves a directory over HTTP. It is the application of the
// static-site example: one static binary, no shell needed to run or probe it.
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
	addr := flag.String("addr", ":8080", "listen address")
	root := flag.String("root", "/www", "directory to serve")
	probe := flag.String("probe", "", "check that URL answers 200 and exit (for HEALTHCHECK)")
	selftest := flag.Bool("selftest", false, "check the site is readable and exit")
	flag.Parse()

	switch {
	case *probe != "":
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(*probe)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, resp.Status)
			os.Exit(1)
		}
	case *selftest:
		if _, err := os.ReadFile(*root + "/index.html"); err != nil {
			fmt.Fprintln(os.Stderr, "selftest:", err)
			os.Exit(1)
		}
		fmt.Printf("selftest ok: uid %d serves %s\n", os.Getuid(), *root)
	default:
		log.Fatal(http.ListenAndServe(*addr, http.FileServer(http.Dir(*root))))
	}
}
