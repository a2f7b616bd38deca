/* The C functions the `calls` benchmark calls through every binding.
 *
 * Built by benches/calls.rs into its own shared library (libmtbench_target.so), so that each
 * binding (hand-written Lua C API, moonthunk thunks, later libffi) reaches the very same
 * code through a call into another object: no binding can inline a target. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void noop(void) {}

int add_i32(int a, int b) { return a + b; }

double add_f64(double a, double b) { return a + b; }

double sum8(double a, double b, double c, double d,
            double e, double f, double g, double h) {
    return a + b + c + d + e + f + g + h;
}

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
