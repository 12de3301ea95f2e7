//go:build !cgo

package idaas

// The package is a cgo wrapper: it needs CGO_ENABLED=1 and a C compiler for the target (CC when
// cross-compiling). Without cgo the undefined name below is the first compile error (this file's
// name sorts first: the go command prints errors in file order).
var _ = idaas_needs_cgo_set_CGO_ENABLED_1_and_a_C_compiler_see_README_Install
