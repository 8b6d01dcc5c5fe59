//go:build pyos_extension

// Go's runtime sizes GOMAXPROCS from the container's CPU limit and keeps the cgroup
// files it reads open to read them again (Go 1.25's containermaxprocs and
// updatemaxprocs): two fds of the importing process that pyos would hold for good.
// pyos makes its pipes on the caller's thread and needs no GOMAXPROCS of the container's.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

package main
