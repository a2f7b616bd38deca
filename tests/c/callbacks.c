/* C code that calls back into Lua: through function pointers, with every scalar type,
 * nested, repeatedly, and from other threads. Used by tests/lua/callbacks.lua. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int32_t cb_call_binary(int32_t (*f)(int32_t, int32_t), int32_t a, int32_t b) { return f(a, b); }
int32_t cb_call_twice(int32_t (*f)(int32_t)) { return f(1) + f(2); }
int32_t cb_call_n(int32_t (*f)(int32_t), int32_t n) {
    int32_t sum = 0;
    for (int32_t i = 0; i < n; i++) sum += f(i);
    return sum;
}

/* Thirteen arguments of every scalar type; the callback's checksum comes back doubled. */
typedef double (*all_types_fn)(bool, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t,
                               int64_t, uint64_t, float, double, void *, const char *);
double cb_call_all_types(all_types_fn f, void *p, const char *s) {
    return 2 * f(true, -8, 200, -16000, 60000, -2000000000, 4000000000u, -(1ll << 40),
                 0x8000000000000001ull, 1.5f, -2.25, p, s);
}

/* Results of every type, checked on the C side: each returns 1 when the value matches. */
int cb_ret_bool(bool (*f)(void)) { return f() == true; }
int cb_ret_i8(int8_t (*f)(void)) { return f() == -5; }
int cb_ret_u8(uint8_t (*f)(void)) { return f() == 250; }
int cb_ret_i16(int16_t (*f)(void)) { return f() == -300; }
int cb_ret_u16(uint16_t (*f)(void)) { return f() == 65535; }
int cb_ret_i32(int32_t (*f)(void)) { return f() == INT32_MIN; }
int cb_ret_u32(uint32_t (*f)(void)) { return f() == UINT32_MAX; }
int cb_ret_i64(int64_t (*f)(void)) { return f() == INT64_MIN; }
int cb_ret_u64(uint64_t (*f)(void)) { return f() == 0x8000000000000001ull; }
int cb_ret_f32(float (*f)(void)) { return f() == 0.25f; }
int cb_ret_f64(double (*f)(void)) { return f() == -1e300; }
int cb_ret_ptr(void *(*f)(void), void *expected) { return f() == expected; }
void cb_call_void(void (*f)(int32_t), int32_t x) { f(x); }

/* Integer arrays for sorting with libc's qsort. */
int32_t *cb_ints_new(int32_t n) {
    int32_t *a = malloc(sizeof(int32_t) * (size_t)n);
    uint32_t x = 12345;
    for (int32_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (int32_t)(x >> 8) % 1000 - 500;
    }
    return a;
}
int32_t cb_ints_get(const int32_t *a, int32_t i) { return a[i]; }
void cb_ints_free(int32_t *a) { free(a); }

/* Foreign threads: a thread that calls f(arg) and keeps the result for the joiner. */
struct cb_thread {
    pthread_t thread;
    int32_t (*f)(int32_t);
    void (*g)(int32_t);
    int32_t arg, result;
};
static void *cb_thread_main(void *p) {
    struct cb_thread *t = p;
    if (t->f) t->result = t->f(t->arg);
    else t->g(t->arg);
    return NULL;
}
void *cb_thread_start(int32_t (*f)(int32_t), int32_t arg) {
    struct cb_thread *t = calloc(1, sizeof *t);
    t->f = f;
    t->arg = arg;
    pthread_create(&t->thread, NULL, cb_thread_main, t);
    return t;
}
void *cb_thread_start_void(void (*g)(int32_t), int32_t arg) {
    struct cb_thread *t = calloc(1, sizeof *t);
    t->g = g;
    t->arg = arg;
    pthread_create(&t->thread, NULL, cb_thread_main, t);
    return t;
}
int32_t cb_thread_join(void *p) {
    struct cb_thread *t = p;
    pthread_join(t->thread, NULL);
    int32_t r = t->result;
    free(t);
    return r;
}

/* Calls f and counts the calls that came back: an error that unwound through this frame
   leaves the count behind. */
static int32_t completed_calls;
void *cb_ret_ptr_counted(void *(*f)(void)) {
    void *p = f();
    completed_calls++;
    return p;
}
int32_t cb_completed_calls(void) { return completed_calls; }
