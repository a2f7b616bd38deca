/* Targets of the value-convention tests: one C function, two Lua-side conventions. */
#include <stdint.h>

char next_char(char c) { return (char)(c + 1); }

void scale_i32(int32_t *a, int32_t n, int32_t k) {
    for (int32_t i = 0; i < n; i++) a[i] *= k;
}

struct conv_point { int32_t x; double y; };

double move_points(struct conv_point *p, int32_t n, int32_t dx) {
    double sum = 0;
    for (int32_t i = 0; i < n; i++) {
        p[i].x += dx;
        p[i].y *= 2;
        sum += p[i].y;
    }
    return sum;
}

void *nth_pointer(void **pointers, int32_t i) { return pointers[i]; }

void swap_pointers(void **pointers) {
    void *first = pointers[0];
    pointers[0] = pointers[1];
    pointers[1] = first;
}

void *call_with_pointer(void *(*f)(void *), void *p) { return f(p); }

char call_with_char(char (*f)(char), char c) { return f(c); }

void conv_bump(int32_t *n) { *n += 1; }

int64_t conv_identity_i64(int64_t n) { return n; }
