package main

import "syscall"

// childAttr makes the kernel kill a child when the load generator dies, so
// that no server outlives a crashed or killed run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
