/* C side of the Alien face tests (tests/lua/alien*.lua). Every name starts with `al_`.
 * Functions return values derived from every argument, and narrow results are computed
 * from wider values, so that a lost, swapped, mis-truncated or mis-extended value shows. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int al_add(int a, int b) { return a + b; }
int al_answer(void) { return 42; }

/* A function never given types (Alien: void, no arguments) that leaves a trace. */
static int al_touched;
void al_touch(void) { al_touched++; }
int al_touch_count(void) { return al_touched; }

/* ---- Integers: how the callee sees each argument type, widened by C rules. ---- */
long long al_see_schar(signed char x) { return x; }
long long al_see_uchar(unsigned char x) { return x; }
long long al_see_short(short x) { return x; }
long long al_see_ushort(unsigned short x) { return x; }
long long al_see_int(int x) { return x; }
long long al_see_uint(unsigned int x) { return x; }
long long al_see_long(long x) { return x; }
unsigned long long al_see_ulong(unsigned long x) { return x; }
long long al_see_longlong(long long x) { return x; }
unsigned long long al_see_ulonglong(unsigned long long x) { return x; }
unsigned long long al_see_size(size_t x) { return x; }
long long al_see_ptrdiff(ptrdiff_t x) { return x; }

/* Narrow results cut from a wide value: the caller must extend the result itself. */
signed char al_cut_schar(long long x) { return (signed char)x; }
unsigned char al_cut_uchar(long long x) { return (unsigned char)x; }
short al_cut_short(long long x) { return (short)x; }
unsigned short al_cut_ushort(long long x) { return (unsigned short)x; }
int al_cut_int(long long x) { return (int)x; }
unsigned int al_cut_uint(long long x) { return (unsigned int)x; }
long al_cut_long(long long x) { return (long)x; }
unsigned long al_cut_ulong(long long x) { return (unsigned long)x; }
size_t al_cut_size(long long x) { return (size_t)x; }
ptrdiff_t al_cut_ptrdiff(long long x) { return (ptrdiff_t)x; }

/* Identities, same type in and out. */
signed char al_id_schar(signed char x) { return x; }
unsigned char al_id_uchar(unsigned char x) { return x; }
short al_id_short(short x) { return x; }
unsigned short al_id_ushort(unsigned short x) { return x; }
int al_id_int(int x) { return x; }
unsigned int al_id_uint(unsigned int x) { return x; }
long al_id_long(long x) { return x; }
unsigned long al_id_ulong(unsigned long x) { return x; }
long long al_id_longlong(long long x) { return x; }
unsigned long long al_id_ulonglong(unsigned long long x) { return x; }
size_t al_id_size(size_t x) { return x; }
ptrdiff_t al_id_ptrdiff(ptrdiff_t x) { return x; }
float al_id_float(float x) { return x; }
double al_id_double(double x) { return x; }

/* Unsigned maxima. */
unsigned char al_max_uchar(void) { return (unsigned char)-1; }
unsigned short al_max_ushort(void) { return (unsigned short)-1; }
unsigned int al_max_uint(void) { return (unsigned int)-1; }
unsigned long al_max_ulong(void) { return (unsigned long)-1; }
unsigned long long al_max_ulonglong(void) { return (unsigned long long)-1; }
size_t al_max_size(void) { return (size_t)-1; }

/* Every kind of argument at once, each with its own weight (1..8). */
#define AL_WEIGHTED(b, h, i, l, p, f, d, ll) \
    ((b) + 2 * (h) + 3 * (i) + 4 * (l) + 5 * (p) + 6 * (f) + 7 * (d) + 8 * (ll))
int al_weigh_int(signed char b, short h, int i, long l, ptrdiff_t p, float f, double d,
                 long long ll) {
    return (int)AL_WEIGHTED(b, h, i, l, p, f, d, ll);
}
float al_weigh_float(signed char b, short h, int i, long l, ptrdiff_t p, float f, double d,
                     long long ll) {
    return (float)AL_WEIGHTED(b, h, i, l, p, f, d, ll);
}
double al_weigh_double(signed char b, short h, int i, long l, ptrdiff_t p, float f, double d,
                       long long ll) {
    return (double)AL_WEIGHTED(b, h, i, l, p, f, d, ll);
}
unsigned long al_usum(unsigned short h, unsigned int i, unsigned long l) {
    return (unsigned long)h + i + l;
}
/* A signed char before the value, so the value is not in the first register. */
short al_after_byte(signed char x, short v) { return (short)(v - x); }
double al_halve(double x) { return x / 2; }
float al_third(float x) { return x / 3; }

/* ---- Strings. ---- */
const char *al_greeting(void) { return "hello from alien.c"; }
const char *al_no_string(void) { return NULL; }
const char *al_echo_string(const char *s) { return s; }
/* -1 for NULL, so that nil passing NULL is visible. */
long al_strlen_or_neg(const char *s) { return s ? (long)strlen(s) : -1; }
/* A pointer into the argument, NULL when c is absent. */
char *al_find_char(char *s, int c) { return strchr(s, c); }

/* ---- Pointers. ---- */
void *al_echo_ptr(void *p) { return p; }
void *al_no_ptr(void) { return NULL; }
int al_is_null(const void *p) { return p == NULL; }
int al_peek_int(const int *p) { return *p; }
void al_poke_int(int *p, int v) { *p = v; }
void *al_add_to_ptr(char *p, long n) { return p + n; }
void *al_get_add(void) { return (void *)al_add; }

/* Static data for the pointer readers (alien.toint and friends). */
static const char al_chars_data[] = "Alien";
static const short al_shorts_data[] = {-2, 300, -32768, 32767};
static const unsigned short al_ushorts_data[] = {65535, 1, 2, 3};
static const int al_ints_data[] = {-1, 2, -3, 2147483647};
static const unsigned int al_uints_data[] = {4294967295u, 7, 8, 9};
static const long al_longs_data[] = {-5, 6, -7, 8};
static const unsigned long al_ulongs_data[] = {(unsigned long)-1, 10, 11, 12};
static const float al_floats_data[] = {0.5f, -1.25f, 2.75f, 1024.0f};
static const double al_doubles_data[] = {0.1, -2.5, 1e300, 4.0};
const void *al_data(int which) {
    switch (which) {
    case 0: return al_chars_data;
    case 1: return al_shorts_data;
    case 2: return al_ushorts_data;
    case 3: return al_ints_data;
    case 4: return al_uints_data;
    case 5: return al_longs_data;
    case 6: return al_ulongs_data;
    case 7: return al_floats_data;
    case 8: return al_doubles_data;
    }
    return NULL;
}

/* ---- Out-parameters ("ref" types). ---- */
void al_sum_into(int a, int b, int *out) { *out = a + b; }
int al_swap_ints(int *a, int *b) {
    int t = *a;
    *a = *b;
    *b = t;
    return *a - *b;
}
void al_flip_uint(unsigned int *p) { *p = ~*p; }
double al_scale_in_place(double *p, double k) {
    double old = *p;
    *p = old * k;
    return old;
}
int al_next_letter(char *c) {
    int old = *c;
    *c = (char)(*c + 1);
    return old;
}
/* Two out-parameters around a plain argument. */
void al_divmod(int n, int *q, int d, int *r) {
    *q = n / d;
    *r = n % d;
}

/* ---- Callbacks. ---- */
int al_apply2(int (*f)(int, int), int a, int b) { return f(a, b); }
/* Calls f(n), f(n - 1), ..., f(1) and sums the results. */
int al_countdown(int n, int (*f)(int)) {
    int sum = 0;
    for (; n > 0; n--) sum += f(n);
    return sum;
}
/* Midpoint rule over n steps. */
double al_integrate(double a, double b, double (*f)(double), long n) {
    double dx = (b - a) / (double)n, sum = 0;
    for (long i = 0; i < n; i++) sum += f(a + (i + 0.5) * dx);
    return sum * dx;
}
/* Calls each of the n function pointers stored in `fns` with (i, 10 * i), i from 1. */
int al_call_each(int (**fns)(int, int), int n) {
    int sum = 0;
    for (int i = 0; i < n; i++) sum += fns[i](i + 1, 10 * (i + 1));
    return sum;
}
/* How a callback sees each argument type. */
int al_cb_uchar(int (*f)(unsigned char)) { return f(200); }
int al_cb_schar(int (*f)(signed char)) { return f(-100); }
int al_cb_short(int (*f)(short)) { return f(-30000); }
int al_cb_ushort(int (*f)(unsigned short)) { return f(60000); }
unsigned int al_cb_uint(unsigned int (*f)(unsigned int)) { return f(4000000000u); }
long al_cb_long(long (*f)(long)) { return f(-5000000000L); }
double al_cb_float_double(double (*f)(float, double)) { return f(1.5f, 0.25); }
int al_cb_string(int (*f)(const char *)) { return f("text from C"); }
int al_cb_pointer(int (*f)(void *), void *p) { return f(p); }
int al_cb_ref_int(int (*f)(int *)) {
    int x = 41;
    return f(&x);
}
double al_cb_ref_double(double (*f)(double *)) {
    double x = 2.5;
    return f(&x);
}
void *al_cb_ret_pointer(void *(*f)(void)) { return f(); }
/* A result narrower than int: C sees only the low bits of what Lua returns. */
int al_cb_ret_schar(signed char (*f)(void)) { return f(); }
int al_cb_ret_uchar(unsigned char (*f)(void)) { return f(); }
void al_cb_void(void (*f)(int), int v) { f(v); }

/* ---- Structs by pointer, with mixed alignment. ---- */
struct al_mixed {
    char c;
    double d;
    short s;
    int i;
};
struct al_tail {
    double d;
    char c;
};
struct al_rect {
    long left, top, right, bottom;
};
struct al_padded {
    short left;
    long top;
    short right;
    long bottom;
};
size_t al_mixed_size(void) { return sizeof(struct al_mixed); }
size_t al_mixed_offset(int field) {
    switch (field) {
    case 1: return offsetof(struct al_mixed, c);
    case 2: return offsetof(struct al_mixed, d);
    case 3: return offsetof(struct al_mixed, s);
    case 4: return offsetof(struct al_mixed, i);
    }
    return (size_t)-1;
}
size_t al_tail_size(void) { return sizeof(struct al_tail); }
size_t al_padded_size(void) { return sizeof(struct al_padded); }
size_t al_padded_offset(int field) {
    switch (field) {
    case 1: return offsetof(struct al_padded, left);
    case 2: return offsetof(struct al_padded, top);
    case 3: return offsetof(struct al_padded, right);
    case 4: return offsetof(struct al_padded, bottom);
    }
    return (size_t)-1;
}
void al_fill_mixed(struct al_mixed *m, int seed) {
    m->c = (char)('a' + seed);
    m->d = seed + 0.25;
    m->s = (short)(-seed);
    m->i = seed * 1000;
}
double al_sum_mixed(const struct al_mixed *m) { return m->c + m->d + m->s + m->i; }
int al_fill_rect(int base, struct al_rect *r) {
    if (base == 0) return 0;
    r->left = base;
    r->top = base + 1;
    r->right = base + 2;
    r->bottom = base + 3;
    return 1;
}
long al_rect_area(const struct al_rect *r) { return (r->right - r->left) * (r->bottom - r->top); }
int al_fill_padded(int base, struct al_padded *r) {
    r->left = (short)base;
    r->top = base * 10L;
    r->right = (short)(base + 1);
    r->bottom = (base + 1) * 10L;
    return 1;
}
void al_triple_padded(struct al_padded *r) {
    r->left *= 3;
    r->top *= 3;
    r->right *= 3;
    r->bottom *= 3;
}

/* ---- Buffers. ---- */
/* Writes "<prefix>:<n>" into buf (at most cap bytes with the NUL); returns the length. */
int al_fill_text(char *buf, size_t cap, const char *prefix, int n) {
    return snprintf(buf, cap, "%s:%d", prefix, n);
}
void al_fill_bytes(unsigned char *p, size_t n, int start) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(start + (int)i);
}
long al_sum_bytes(const unsigned char *p, size_t n) {
    long s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}
double al_sum_doubles(const double *p, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += p[i];
    return s;
}
long al_sum_ints(const int *p, int n) {
    long s = 0;
    for (int i = 0; i < n; i++) s += p[i];
    return s;
}

/* ---- String arrays (char **). ---- */
/* Joins the n strings with '+' into out; returns the total length. */
int al_join(const char **v, int n, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(out + used, cap - used, i ? "+%s" : "%s", v[i]);
        if (w < 0 || (size_t)w >= cap - used) return -1;
        used += (size_t)w;
    }
    return (int)used;
}
const char *al_pick(const char **v, int i) { return v[i]; }

/* ---- errno. ---- */
int al_set_errno(int e) {
    errno = e;
    return -1;
}
