package idaas

// Go functions exported to C (a file with //export may only declare in its preamble).

/*
#include <stdint.h>
#include <idaas.h>
*/
import "C"

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/cgo"
	"unsafe"
)

//export idaasGoLog
func idaasGoLog(level C.uint32_t, target *C.char, message *C.char, userData unsafe.Pointer) {
	defer func() { _ = recover() }() // never unwind into the library
	l, _ := cgo.Handle(uintptr(userData)).Value().(*slog.Logger)
	if l == nil || level < 1 || int(level) >= len(slogLevels) {
		return
	}
	l.LogAttrs(context.Background(), slogLevels[level], C.GoString(message),
		slog.String("target", C.GoString(target)))
}

// idaasGoFreeHandle is the free_user_data of plugins and per-config loggers: the library calls
// it once, from any thread, when no handle needs the callback any more.
//
//export idaasGoFreeHandle
func idaasGoFreeHandle(userData unsafe.Pointer) {
	deleteCallbackHandle(cgo.Handle(uintptr(userData)))
}

//export idaasGoPlugin
func idaasGoPlugin(userData unsafe.Pointer, scope *C.char, result *C.struct_idaas_plugin_result) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			setPluginError(result, fmt.Sprintf("Go plugin panicked: %v", r))
			rc = 1
		}
	}()
	fn := cgo.Handle(uintptr(userData)).Value().(PluginFunc)
	token, lifetime, err := fn(C.GoString(scope))
	if err != nil {
		setPluginError(result, err.Error())
		return 1
	}
	ct := cstr(token)
	defer cfreeSecret(ct)
	var cerr *C.idaas_error
	var secsLeft C.uint64_t // whole seconds, rounded up; <= 0 = unknown (not cached)
	if lifetime > 0 {
		secsLeft = C.uint64_t(secs(lifetime))
	}
	code := C.idaas_plugin_result_set_token(result, ct, secsLeft, &cerr)
	if err := takeError(code, cerr); err != nil {
		setPluginError(result, "Go plugin: "+err.Error())
		return 1
	}
	return 0
}

func setPluginError(result *C.struct_idaas_plugin_result, msg string) {
	cm := cstr(msg)
	defer cfree(cm)
	C.idaas_plugin_result_set_error(result, cm, nil)
}

//export idaasGoURL
func idaasGoURL(url *C.char, userData unsafe.Pointer) (rc C.int32_t) {
	st := cgo.Handle(uintptr(userData)).Value().(*pollState)
	defer func() {
		if r := recover(); r != nil {
			st.err = fmt.Errorf("idaas: authorization URL callback panicked: %v", r)
			rc = 1
		}
	}()
	if err := st.onURL(C.GoString(url)); err != nil {
		st.err = err
		return 1
	}
	return 0
}
