// A static Go service built in named stages with cache mounts, shipped on
// busybox.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

// Version is set at link time.
var Version = "dev"

func main() {
	selftest := flag.Bool("selftest", false, "print the version and exit")
	flag.Parse()
	if *selftest {
		fmt.Println("hkstatic", Version, "selftest ok")
		return
	}
	port := os.Getenv("PORT")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from hkstatic %s\n", Version)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
