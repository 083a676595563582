// A Go web service that calls into C through cgo, so it links libc
// dynamically.
package main

/*
#include <stdio.h>
#include <string.h>

static int greeting(char *buf, int n) {
	return snprintf(buf, n, "hello from cgo (%d)", (int)strlen("distroless"));
}
*/
import "C"

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"unsafe"
)

func greeting() string {
	buf := make([]byte, 64)
	n := C.greeting((*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
	return string(buf[:n])
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, greeting())
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
