/* The C test library: compiled from source by the tests (tests/common/mod.rs) and called
 * from the Lua scripts in tests/lua/. Functions return values derived from every argument
 * so that a lost, swapped or mis-extended argument changes the result. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Identity per scalar type: parameters and results of every width and signedness. */
bool t_bool(bool x) { return x; }
int8_t t_i8(int8_t x) { return x; }
uint8_t t_u8(uint8_t x) { return x; }
int16_t t_i16(int16_t x) { return x; }
uint16_t t_u16(uint16_t x) { return x; }
int32_t t_i32(int32_t x) { return x; }
uint32_t t_u32(uint32_t x) { return x; }
int64_t t_i64(int64_t x) { return x; }
uint64_t t_u64(uint64_t x) { return x; }
ptrdiff_t t_isize(ptrdiff_t x) { return x; }
size_t t_usize(size_t x) { return x; }
float t_f32(float x) { return x; }
double t_f64(double x) { return x; }
void *t_ptr(void *x) { return x; }
const char *t_string(const char *x) { return x; }

/* Extension checks: the callee sees the narrow value, widened by C rules. */
int32_t widen_i8(int8_t x) { return x; }
int32_t widen_u8(uint8_t x) { return x; }
int32_t widen_i16(int16_t x) { return x; }
uint32_t widen_u16(uint16_t x) { return x; }
int64_t widen_i32(int32_t x) { return x; }
uint64_t widen_u32(uint32_t x) { return x; }
int32_t not_bool(bool x) { return !x; }
double f32_to_f64(float x) { return (double)x; }

/* Narrow results computed from a wider value: at -O1 the upper register bits keep the wide
 * value, so the caller must extend the result itself. */
int8_t narrow_i8(int32_t x) { return (int8_t)x; }
uint8_t narrow_u8(int32_t x) { return (uint8_t)x; }
int16_t narrow_i16(int32_t x) { return (int16_t)x; }
uint16_t narrow_u16(int32_t x) { return (uint16_t)x; }
int32_t narrow_i32(int64_t x) { return (int32_t)x; }
uint32_t narrow_u32(int64_t x) { return (uint32_t)x; }
bool is_positive(int64_t x) { return x > 0; }
float half_f32(double x) { return (float)(x / 2); }

/* Boundary values as results. */
int32_t int_min(void) { return INT32_MIN; }
uint32_t uint32_max(void) { return UINT32_MAX; }
uint64_t u64_big(void) { return 0x8000000000000001ull; }
int64_t i64_min(void) { return INT64_MIN; }
double neg_zero(void) { return -0.0; }
double nan_value(void) { return 0.0 / 0.0; }
int is_nan(double x) { return x != x; }
int is_neg_zero(double x) { return x == 0.0 && 1.0 / x < 0; }
int u64_is_big(uint64_t x) { return x == 0x8000000000000001ull; }

/* Mixed signatures of 0, 1, 6, 8, 9 and 16 parameters; argument i is weighted by i + 1. */
int32_t zero_args(void) { return 7; }
double one_arg(float x) { return x * 2.0; }
double mixed6(int32_t a, double b, int8_t c, float d, int64_t e, uint16_t f) {
    return 1 * a + 2 * b + 3 * c + 4 * d + 5 * (double)e + 6 * f;
}
double mixed8(double a, int32_t b, double c, int32_t d, double e, int32_t f, double g, int32_t h) {
    return 1 * a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}
double mixed9(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g,
              double h, int64_t i) {
    return 1 * a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * (double)i;
}
double mixed16(int64_t a1, double a2, int64_t a3, double a4, int64_t a5, double a6, int64_t a7,
               double a8, int64_t a9, double a10, int64_t a11, double a12, int64_t a13,
               double a14, int64_t a15, double a16) {
    return 1 * a1 + 2 * a2 + 3 * a3 + 4 * a4 + 5 * a5 + 6 * a6 + 7 * a7 + 8 * a8 + 9 * a9 +
           10 * a10 + 11 * a11 + 12 * a12 + 13 * a13 + 14 * a14 + 15 * a15 + 16 * a16;
}
/* Ten doubles and eight floats spill past the eight SSE argument registers. */
double floats18(double a, double b, double c, double d, double e, double f, double g, double h,
                double i, double j, float k, float l, float m, float n, float o, float p,
                float q, float r) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j +
           11 * k + 12 * l + 13 * m + 14 * n + 15 * o + 16 * p + 17 * q + 18 * r;
}
/* Eleven floats and a float result: the last three float arguments go on the stack. */
float f32_weighted11(float a, float b, float c, float d, float e, float f, float g, float h,
                     float i, float j, float k) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j + 11 * k;
}
/* Sixteen narrow integers: register exhaustion with sign and zero extension on the stack. */
int64_t ints16(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f, int64_t g,
               uint64_t h, int8_t i, uint8_t j, int16_t k, uint16_t l, int32_t m, uint32_t n,
               int64_t o, bool p) {
    return 1 * a + 2 * b + 3 * c + 4 * d + 5 * (int64_t)e + 6 * (int64_t)f + 7 * g +
           8 * (int64_t)h + 9 * i + 10 * j + 11 * k + 12 * l + 13 * (int64_t)m +
           14 * (int64_t)n + 15 * o + 16 * p;
}

/* Strings and pointers in and out. */
size_t t_strlen(const char *s) { return strlen(s); }
int is_null(const void *p) { return p == NULL; }
const char *static_string(void) { return "hello from C"; }
const char *null_string(void) { return NULL; }
void *null_pointer(void) { return NULL; }
static int32_t the_int = 42;
int32_t *static_int(void) { return &the_int; }
int32_t read_int(const int32_t *p) { return *p; }
const char *string_at(const char *s, size_t i) { return s + i; }
int count_char(const char *s, int c) {
    int n = 0;
    for (; *s; s++) n += *s == c;
    return n;
}

/* The seed examples (lune-ffi-basic.txt): mymath.c and the basic usage functions. */
int add(int a) { return a + a; }
double get_pi(void) { return 3.14159265358979; }
const char *get_greeting(void) { return "Hello from C!"; }
int get_version(void) { return 3; }
/* The seed calls a function named "double", a C keyword: export it under an asm label. */
int double_int(int a) __asm__("double");
int double_int(int a) { return a * 2; }
int twice(int a) { return a * 2; }
const char *get_name(void) { return "moonthunk test library"; }
static int initialized = 0;
void initialize(void) { initialized = 1; }
int is_initialized(void) { return initialized; }
static int my_function_calls = 0;
void my_function(void) { my_function_calls++; }
int my_function_count(void) { return my_function_calls; }
/* A second counter, so that scripts running in parallel threads of one test process (the
 * embedded tests share one copy of this library) never observe each other's calls. */
static int ticks = 0;
void tick(void) { ticks++; }
int tick_count(void) { return ticks; }

/* Two integers, the shape the cache tests bind under several spellings. */
int32_t add_i32(int32_t a, int32_t b) { return a + b; }
int32_t sub_i32(int32_t a, int32_t b) { return a - b; }

/* How many frames the unwinder walks from here: past a JIT thunk only when the thunk's
 * unwind information is registered. */
#include <execinfo.h>
int backtrace_depth(void) {
    void *frames[256];
    return backtrace(frames, 256);
}

/* One parameter of every kind a thunk reads inline, each weighted so that a mix-up shows. */
double every_kind(const char *s, int32_t i, double d, bool b, const void *p, float f,
                  int64_t j, const char *t) {
    return (double)strlen(s) + 10.0 * i + 100.0 * d + (b ? 1000.0 : 0.0) +
           (p ? 10000.0 : 0.0) + 100000.0 * f + 1e6 * (double)j + 1e7 * (double)strlen(t);
}

/* Out-parameters after a scalar: the count check allows the trailing ones to be missing. */
int32_t scaled_out(int32_t x, int32_t *twice, int32_t *thrice) {
    *twice = 2 * x;
    *thrice = 3 * x;
    return x;
}

/* An out-parameter before a scalar: it may not be missing then. */
int32_t out_first(int32_t *out, int32_t x) {
    *out = x + 1;
    return x;
}

/* Twenty parameters: the most a shared thunk reads in one batch. */
int64_t sum20(int64_t a1, int64_t a2, int64_t a3, int64_t a4, int64_t a5, int64_t a6,
              int64_t a7, int64_t a8, int64_t a9, int64_t a10, int64_t a11, int64_t a12,
              int64_t a13, int64_t a14, int64_t a15, int64_t a16, int64_t a17, int64_t a18,
              int64_t a19, int64_t a20) {
    return a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 +
           a16 + a17 + a18 + a19 + a20;
}

/* More parameters than a C function's guaranteed free stack slots (LUA_MINSTACK, 20). */
int64_t sum22(int64_t a1, int64_t a2, int64_t a3, int64_t a4, int64_t a5, int64_t a6,
              int64_t a7, int64_t a8, int64_t a9, int64_t a10, int64_t a11, int64_t a12,
              int64_t a13, int64_t a14, int64_t a15, int64_t a16, int64_t a17, int64_t a18,
              int64_t a19, int64_t a20, int64_t a21, int64_t a22) {
    return a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 +
           a16 + a17 + a18 + a19 + a20 + a21 + a22;
}

/* The Debian multiarch directory of the architecture this library was built for, so that
   scripts can find the target's own system files (an emulated process sees the host's too). */
const char *target_multiarch(void) {
#if defined(__x86_64__)
    return "x86_64-linux-gnu";
#elif defined(__aarch64__)
    return "aarch64-linux-gnu";
#else
    return "";
#endif
}
