/* By-value aggregates, variadic calls, out-parameters and errno, for tests/lua/abi.lua. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct { double x, y; } V2;
typedef struct { int32_t a; float b; double c; } IFD;
typedef struct { double a, b, c, d, e; } Big;           /* 40 bytes: MEMORY */
typedef struct { int64_t a, b, c; } Mid;               /* 24 bytes: MEMORY */
typedef struct { char c[3]; } C3;
typedef struct { float x, y, z; } F3;
typedef struct { short s; char c; } SC;
typedef struct { double d; float f; } DF;
typedef union { int32_t i; float f; } IF;
typedef struct __attribute__((packed)) { uint8_t c; int32_t i; } Packed;
typedef struct { V2 pos; int32_t id; } Nested;

V2 abi_v2_add(V2 a, V2 b) { V2 r = { a.x + b.x, a.y + b.y }; return r; }
double abi_ifd_sum(IFD s) { return s.a + s.b + s.c; }
IFD abi_ifd_make(int32_t a, float b, double c) { IFD r = { a, b, c }; return r; }
Big abi_big_scale(Big b, double k) { Big r = { b.a * k, b.b * k, b.c * k, b.d * k, b.e * k }; return r; }
Mid abi_mid_make(int64_t a) { Mid r = { a, a * 2, a * 3 }; return r; }
int64_t abi_mid_sum(Mid m) { return m.a + m.b + m.c; }
int abi_c3_sum(C3 c) { return c.c[0] + c.c[1] + c.c[2]; }
C3 abi_c3_make(char a) { C3 r = { { a, (char)(a + 1), (char)(a + 2) } }; return r; }
F3 abi_f3_make(float x) { F3 r = { x, x * 2, x * 3 }; return r; }
int abi_sc_sum(SC v) { return v.s + v.c; }
SC abi_sc_make(short s, char c) { SC r = { s, c }; return r; }
double abi_df_sum(DF v) { return v.d + v.f; }
float abi_if_as_float(IF u) { return u.f; }
IF abi_if_from_int(int32_t i) { IF u; u.i = i; return u; }
int64_t abi_packed_sum(Packed p) { return p.c + p.i; }
Packed abi_packed_make(uint8_t c, int32_t i) { Packed p = { c, i }; return p; }
double abi_nested_sum(Nested n) { return n.pos.x + n.pos.y + n.id; }
/* Five integer registers used, then a two-register struct: it goes whole to the stack. */
int64_t abi_exhausted(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, V2 v, int64_t f) {
    return a + b + c + d + e + (int64_t)(v.x * 10 + v.y) + f * 100;
}

/* Callbacks taking and returning aggregates. */
double abi_cb_v2(V2 (*f)(V2, double), double x) {
    V2 a = { x, x + 1 };
    V2 r = f(a, 2.0);
    return r.x * 10 + r.y;
}
double abi_cb_big(Big (*f)(Big)) {
    Big a = { 1, 2, 3, 4, 5 };
    Big r = f(a);
    return r.a + r.b * 10 + r.c * 100 + r.d * 1000 + r.e * 10000;
}
int64_t abi_cb_mixed(int64_t (*f)(IFD, C3, Mid, IF)) {
    IFD ifd = { 7, 0.5f, 0.25 };
    C3 c3 = { { 1, 2, 3 } };
    Mid mid = { 10, 20, 30 };
    IF u;
    u.i = 99;
    return f(ifd, c3, mid, u);
}

/* The reference text for the variadic test, formatted by C itself. */
const char *abi_reference_format(void) {
    static char buf[256];
    snprintf(buf, sizeof buf, "%d %ld %f %s %p|%5.2f %c %x", 42, 1L << 40, 3.5, "str",
             (void *)0x1234, -2.25, 'z', 255u);
    return buf;
}
int abi_sum_ints(int n, ...);
#include <stdarg.h>
int abi_sum_ints(int n, ...) {
    va_list ap;
    va_start(ap, n);
    long total = 0;
    for (int i = 0; i < n; i++) total += va_arg(ap, long);
    va_end(ap);
    return (int)total;
}
double abi_sum_doubles(int n, ...) {
    va_list ap;
    va_start(ap, n);
    double total = 0;
    for (int i = 0; i < n; i++) total += va_arg(ap, double);
    va_end(ap);
    return total;
}

/* Out-parameters. */
void abi_divmod(int a, int b, int *q, int *r) { *q = a / b; *r = a % b; }
int abi_scale_inout(double *x, int64_t *n, uint8_t *small) {
    *x *= 2;
    *n += 1;
    *small = (uint8_t)(*small + 1);
    return 7;
}

/* errno. */
int abi_fail_with(int code) { errno = code; return -1; }
int abi_succeed(void) { return 0; }
Nested abi_nested_make(double x, double y, int32_t id) { Nested n = { { x, y }, id }; return n; }
