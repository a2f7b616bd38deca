/* C side of the C/Invoke face tests (tests/lua/cinvoke*.lua). Every name starts with `ci_`.
 * Functions return values derived from every argument, so that a lost, swapped or
 * mis-converted value shows; array functions change every element, so that the write-back
 * shows. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int ci_add(int a, int b) { return a + b; }

/* ---- Scalars: each type comes back as it went in. ---- */
char ci_char(char c) { return c; }
char ci_next_char(char c) { return (char)(c + 1); }
short ci_short(short x) { return x; }
int ci_int(int x) { return x; }
long ci_long(long x) { return x; }
long long ci_longlong(long long x) { return x; }
int16_t ci_int16(int16_t x) { return x; }
int32_t ci_int32(int32_t x) { return x; }
int64_t ci_int64(int64_t x) { return x; }
float ci_float(float x) { return x; }
double ci_double(double x) { return x; }
const char *ci_string(const char *s) { return s; }
void *ci_ptr(void *p) { return p; }
int ci_is_null(void *p) { return p == NULL; }
uintptr_t ci_address(void *p) { return (uintptr_t)p; }
double ci_mixed(char c, short s, int i, long l, long long ll, float f, double d) {
    return c + s + i + l + ll + f + d;
}

/* ---- Arrays written back: each element changed in place. ---- */
void ci_negate_chars(char *a, int n) { for (int i = 0; i < n; i++) a[i] = (char)-a[i]; }
void ci_upper(char *a, int n) { for (int i = 0; i < n; i++) if (a[i] >= 'a' && a[i] <= 'z') a[i] -= 32; }
void ci_negate_shorts(short *a, int n) { for (int i = 0; i < n; i++) a[i] = (short)-a[i]; }
void ci_negate_ints(int *a, int n) { for (int i = 0; i < n; i++) a[i] = -a[i]; }
void ci_negate_longs(long *a, int n) { for (int i = 0; i < n; i++) a[i] = -a[i]; }
void ci_negate_longlongs(long long *a, int n) { for (int i = 0; i < n; i++) a[i] = -a[i]; }
void ci_negate_int16s(int16_t *a, int n) { for (int i = 0; i < n; i++) a[i] = (int16_t)-a[i]; }
void ci_negate_int32s(int32_t *a, int n) { for (int i = 0; i < n; i++) a[i] = -a[i]; }
void ci_negate_int64s(int64_t *a, int n) { for (int i = 0; i < n; i++) a[i] = -a[i]; }
void ci_halve_floats(float *a, int n) { for (int i = 0; i < n; i++) a[i] /= 2; }
void ci_halve_doubles(double *a, int n) { for (int i = 0; i < n; i++) a[i] /= 2; }
/* Pointers: element i becomes the address of element n-1-i's target (reversal). */
void ci_reverse_ptrs(void **a, int n) {
    for (int i = 0; i < n / 2; i++) { void *t = a[i]; a[i] = a[n - 1 - i]; a[n - 1 - i] = t; }
}
int ci_array_is_null(int *a) { return a == NULL; }
int ci_sum16(int *a) { int s = 0; for (int i = 0; i < 16; i++) { s += a[i]; a[i] += 1; } return s; }

/* ---- Structures (the manual's Foo, Inner and Outer). ---- */
struct Foo { int i1; short s1; };
void ci_foo_double(struct Foo *f, int n) {
    for (int i = 0; i < n; i++) { f[i].i1 *= 2; f[i].s1 *= 2; }
}
struct Inner { int u; int v; };
struct Outer { struct Inner in; float out; };
void ci_outer_swap(struct Outer *o) { int t = o->in.u; o->in.u = o->in.v; o->in.v = t; o->out *= 2; }
static struct Outer ci_outers[2] = { { { 1, 2 }, 0.5f }, { { 3, 4 }, 1.5f } };
struct Outer *ci_get_outers(void) { return ci_outers; }

/* ---- Callbacks. ---- */
int ci_call_int(int (*cb)(int), int x) { return cb(x); }
void ci_call_void(void (*cb)(int), int x) { cb(x); }
char ci_call_char(char (*cb)(char, const char *), char c) { return cb(c, "str"); }
double ci_call_double(double (*cb)(double, float), double x) { return cb(x, 0.5f); }
void *ci_call_ptr(void *(*cb)(void *), void *p) { return cb(p); }
typedef int (*int_fn)(int);
static int ci_triple(int x) { return 3 * x; }
int_fn ci_get_triple(void) { return ci_triple; }

/* ---- Tied variables: thread-local, because the embedded tests run scripts on several threads
 * of one process at once (dlsym gives the calling thread's instance). ---- */
_Thread_local char ci_var_char = 'x';
_Thread_local short ci_var_short = -12;
_Thread_local int ci_var_int = 42;
_Thread_local long ci_var_long = -7;
_Thread_local long long ci_var_longlong = 1LL << 40;
_Thread_local float ci_var_float = 1.5f;
_Thread_local double ci_var_double = 2.25;
_Thread_local void *ci_var_ptr = NULL;
int ci_get_var_int(void) { return ci_var_int; }
char ci_get_var_char(void) { return ci_var_char; }
void *ci_get_var_ptr(void) { return ci_var_ptr; }

/* ---- Memory for the cinv helpers. ---- */
static const char ci_text[] = "hello\0world";
const char *ci_get_text(void) { return ci_text; }
static int ci_ints[4] = { 10, -20, 30, INT_MIN };
int *ci_get_ints(void) { return ci_ints; }

/* ---- Structures with Cchar and Cptr fields. ---- */
struct Tagged { char tag; void *data; int n; };
/* Each element: a lower-case tag upper-cased, data moved on by n bytes (NULL becomes the
 * text), n doubled. */
void ci_tagged_step(struct Tagged *t, int count) {
    for (int i = 0; i < count; i++) {
        if (t[i].tag >= 'a' && t[i].tag <= 'z') t[i].tag -= 32;
        t[i].data = t[i].data ? (char *)t[i].data + t[i].n : (void *)ci_text;
        t[i].n *= 2;
    }
}
struct Holder { struct Tagged t; char c; void *p; };
/* Each element: the nested tag and c swapped, the nested data and p swapped. */
void ci_holder_swap(struct Holder *h, int count) {
    for (int i = 0; i < count; i++) {
        char c = h[i].c; h[i].c = h[i].t.tag; h[i].t.tag = c;
        void *p = h[i].p; h[i].p = h[i].t.data; h[i].t.data = p;
    }
}
static struct Holder ci_holders[2] = {
    { { 'q', NULL, 7 }, 'r', (void *)ci_text },
    { { 's', (void *)ci_text, 8 }, '\377', NULL },
};
struct Holder *ci_get_holders(void) { return ci_holders; }
