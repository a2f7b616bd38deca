/* The C functions the `calls` benchmark calls through every binding.
 *
 * Built by benches/calls.rs into its own shared library (libmtbench_target.so), so that each
 * binding (hand-written Lua C API, moonthunk thunks, libffi) reaches the very same
 * code through a call into another object: no binding can inline a target. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void noop(void) {}

int add_i32(int a, int b) { return a + b; }

double add_f64(double a, double b) { return a + b; }

int64_t add_i64(int64_t a, int64_t b) { return a + b; }

double sum8(double a, double b, double c, double d,
            double e, double f, double g, double h) {
    return a + b + c + d + e + f + g + h;
}

/* Twelve mixed arguments: seven integers (the seventh goes on the stack on x86-64 SysV) and
 * five floats. */
double mixed12(int32_t a, double b, int64_t c, float d, int32_t e, double f,
               int64_t g, float h, int32_t i, double j, int64_t k, int32_t l) {
    return a + b + c + d + e + f + g + h + i + j + k + l;
}

/* A read through a pointer to a struct. */
struct point { int32_t x; double y; };
double point_read(const struct point *p) { return p->x + p->y; }

/* A pointer result. */
static int ptr_anchor;
void *ptr_ret(void) { return &ptr_anchor; }

/* libc's strlen behind a symbol of this library (a tail call), so that every binding looks
 * up and calls the same address. */
size_t str_len(const char *s) { return strlen(s); }

/* The sum of n bytes: the C side of the buffer-passing benchmark. */
unsigned buf_sum(const unsigned char *p, size_t n) {
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

/* The C half of the callback round trip: Lua -> call_cb -> f (Lua) -> call_cb -> Lua. */
int32_t call_cb(int32_t (*f)(int32_t, int32_t), int32_t a, int32_t b) { return f(a, b); }

/* A {double,double} struct passed and returned by value. */
struct v2 { double x, y; };
struct v2 v2_add(struct v2 a, struct v2 b) {
    struct v2 r = { a.x + b.x, a.y + b.y };
    return r;
}

/* A 16-int array reversed in place (the C/Invoke array written back); returns the sum, which
 * the reversal keeps. */
int32_t reverse16(int32_t *a) {
    int32_t s = 0;
    for (int i = 0; i < 8; i++) { int32_t t = a[i]; a[i] = a[15 - i]; a[15 - i] = t; }
    for (int i = 0; i < 16; i++) s += a[i];
    return s;
}
