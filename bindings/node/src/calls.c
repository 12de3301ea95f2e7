/*
 * calls.c - the asynchronous calls.
 *
 * A call copies its arguments on the JS thread, runs its ABI function on an executor thread
 * (executor.c) and comes back to the JS thread through the environment's completion channel, a
 * threadsafe function calling index.js's completion function with (id, error, result); index.js
 * settles the Promise it keeps under that id. A call holds no JS object: neither a napi_deferred
 * nor a reference, which Node never frees when the environment goes away before the call ends
 * (a terminated worker_thread) — the JS side of a call dies with its environment.
 *
 * While a call runs, the handles it uses are acquired (handles.c): close() or a finalizer defers the
 * free to its end. If the environment goes away meanwhile (a terminated worker_thread), the call is
 * abandoned: its result is freed and its handles released on whichever thread notices.
 */
#include "addon.h"

#include <stdlib.h>

void call_free(call *c) {
    for (int i = 0; i < MAX_STR_ARGS; i++) secure_free(c->s[i]);
    idaas_string_free(c->out);
    idaas_error_free(c->err);
    free(c);
}

/* Releases what the call holds (any thread). */
static void call_release(call *c) {
    if (c->h) handle_release(c->h);
    if (c->cancel) handle_release(c->cancel);
    jscb_release(c->on_url);
    if (c->complete) jscb_drop(c->complete);
}

/* The environment is gone: nobody will see the result. */
static void call_abandon(call *c) {
    if (c->new_ptr) idaas_client_free(c->new_ptr);
    call_release(c);
    call_free(c);
}

/* The result as JS values: args[0] = error or null, args[1] = the result. */
static void result_args(napi_env env, call *c, napi_value *args) {
    napi_get_null(env, &args[0]);
    napi_get_undefined(env, &args[1]);
    if (c->code != IDAAS_CODE_OK) {
        args[0] = error_value(env, c->code, c->err);
        return;
    }
    napi_value result = NULL;
    switch (c->op->result) {
    case R_CLIENT:
        result = handle_wrap(env, K_CLIENT, c->new_ptr);
        c->new_ptr = NULL; /* handle_wrap took it, also on failure */
        break;
    case R_BOOL: napi_get_boolean(env, c->active, &result); break;
    case R_VOID: napi_get_undefined(env, &result); break;
    case R_STRING: result = string_or_null(env, c->out); break;
    }
    napi_value exc = result ? NULL : take_exception(env);
    if (result) args[1] = result;
    else if (exc) args[0] = exc;
    else napi_create_string_utf8(env, "idaas native: no result", NAPI_AUTO_LENGTH, &args[0]);
}

/* call_js of the completion channel: on the JS thread, or env == NULL at teardown. */
static void complete_js(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)js_cb;
    (void)context;
    call *c = data;
    if (!env) {
        call_abandon(c);
        return;
    }
    addon_state *st = c->st;
    napi_value undef, args[3];
    napi_create_uint32(env, c->id, &args[0]);
    result_args(env, c, args + 1);
    napi_get_undefined(env, &undef);
    /* index.js's function settles a Promise: it does not throw; if it did, report it */
    if (napi_call_function(env, undef, js_cb, 3, args, NULL) == napi_pending_exception) {
        napi_value exc = take_exception(env);
        if (exc) napi_fatal_exception(env, exc);
    }
    if (--st->pending == 0) jscb_set_keep_alive(env, st->complete, false);
    call_release(c);
    call_free(c);
}

/* On an executor thread. */
static void run_call(task *t) {
    call *c = (call *)t;
    c->op->exec(c);
    if (!jscb_call(c->complete, c)) call_abandon(c);
}

/* setCompletion(fn): fn(id, error, result) settles the Promise of call `id` (index.js, once). */
static napi_value js_set_completion(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    addon_state *st = addon_state_of(env);
    napi_valuetype t = napi_undefined;
    if (argc) napi_typeof(env, argv[0], &t);
    if (t != napi_function || st->complete) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "setCompletion(fn): once, with a function");
        return NULL;
    }
    st->complete = jscb_new(env, argv[0], "idaas.call", complete_js, NULL);
    return NULL;
}

call *call_new(napi_env env, const op_desc *op, size_t argc, napi_value *argv) {
    size_t first = op->kind ? 1 : 0;
    size_t id_at = first + (size_t)op->nargs;
    napi_value undef;
    napi_get_undefined(env, &undef);
    uint32_t id = 0;
    if (id_at >= argc || napi_get_value_uint32(env, argv[id_at], &id) != napi_ok) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "%s: the last argument must be the call's id", op->js_name);
        return NULL;
    }
    handle *h = NULL;
    if (op->kind && !handle_get(env, argv[0], op->kind, false, &h)) return NULL;
    call *c = calloc(1, sizeof *c);
    if (!c) {
        throw_oom(env);
        return NULL;
    }
    c->op = op;
    c->h = h;
    c->id = id;
    for (int i = 0; i < op->nargs; i++) {
        if (!arg_string(env, argv[first + (size_t)i], (op->nullable >> i) & 1u, op->arg_names[i], &c->s[i])) {
            call_free(c);
            return NULL;
        }
    }
    return c;
}

void call_start(napi_env env, call *c) {
    addon_state *st = addon_state_of(env);
    if (!st->complete) {
        call_free(c);
        napi_throw_error(env, "ERR_IDAAS_NAPI", "idaas native: setCompletion was not called");
        return;
    }
    c->t.run = run_call;
    c->st = st;
    c->complete = st->complete;
    jscb_hold(c->complete);
    if (c->h) handle_acquire(c->h);
    if (c->cancel) handle_acquire(c->cancel);
    if (!executor_submit(&c->t)) {
        call_release(c);
        call_free(c);
        napi_throw_error(env, "ERR_IDAAS_THREAD", "idaas native: could not start a worker thread");
        return;
    }
    if (st->pending++ == 0) jscb_set_keep_alive(env, st->complete, true);
}

napi_value call_op(napi_env env, napi_callback_info info) {
    size_t argc = 2 + MAX_STR_ARGS;
    napi_value argv[2 + MAX_STR_ARGS];
    void *data = NULL;
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, &data));
    call *c = call_new(env, data, argc, argv);
    if (c) call_start(env, c);
    return NULL;
}

const export_fn CALL_EXPORTS[] = {
    {"setCompletion", js_set_completion, NULL},
};
const size_t CALL_EXPORTS_LEN = sizeof CALL_EXPORTS / sizeof CALL_EXPORTS[0];
