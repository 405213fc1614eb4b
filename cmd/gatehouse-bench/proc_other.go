//go:build !linux

package main

import "syscall"

// childAttr: only Linux has a parent-death signal; elsewhere children are
// stopped by the load generator on its way out.
func childAttr() *syscall.SysProcAttr { return nil }
