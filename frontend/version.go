package frontend

// Version is hardenkit's version, set at link time with
// -ldflags "-X github.com/hardenkit/hardenkit/frontend.Version=...".
var Version = "dev"
