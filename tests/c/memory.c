/* C helpers for the memory tests (tests/lua/memory_*.lua): struct layouts as gcc lays them
 * out, and functions that read and fill memory handed over from Lua. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct mt_s1 { char a; double b; char c; };
struct mt_s2 { uint8_t a; uint16_t b; uint32_t c; uint64_t d; };
struct mt_s3 { int32_t x; struct mt_s1 inner; uint8_t tail; };
struct mt_s4 { uint8_t name[3]; int16_t arr[5]; float f; };
struct mt_pair { uint8_t a; uint8_t b; };
struct mt_s5 { char c; struct mt_pair pair[3]; int64_t big; void *p; };
struct mt_s6 { uint8_t a; struct mt_s2 arr[2]; bool flag; };
struct mt_player { float x; float y; int32_t health; uint8_t name[32]; };
struct mt_s7 { int16_t s; double d[2]; uint8_t u; };

#define FIELD(T, f) offsetof(struct T, f)

/* sizeof (field < 0) or the offset of field number `field` of struct number `which`;
 * (size_t)-1 for an unknown pair. */
size_t mt_layout(int which, int field) {
    static const size_t table[][6] = {
        {sizeof(struct mt_s1), FIELD(mt_s1, a), FIELD(mt_s1, b), FIELD(mt_s1, c)},
        {sizeof(struct mt_s2), FIELD(mt_s2, a), FIELD(mt_s2, b), FIELD(mt_s2, c), FIELD(mt_s2, d)},
        {sizeof(struct mt_s3), FIELD(mt_s3, x), FIELD(mt_s3, inner), FIELD(mt_s3, tail)},
        {sizeof(struct mt_s4), FIELD(mt_s4, name), FIELD(mt_s4, arr), FIELD(mt_s4, f)},
        {sizeof(struct mt_s5), FIELD(mt_s5, c), FIELD(mt_s5, pair), FIELD(mt_s5, big), FIELD(mt_s5, p)},
        {sizeof(struct mt_s6), FIELD(mt_s6, a), FIELD(mt_s6, arr), FIELD(mt_s6, flag)},
        {sizeof(struct mt_player), FIELD(mt_player, x), FIELD(mt_player, y),
         FIELD(mt_player, health), FIELD(mt_player, name)},
        {sizeof(struct mt_s7), FIELD(mt_s7, s), FIELD(mt_s7, d), FIELD(mt_s7, u)},
    };
    if (which < 0 || which >= (int)(sizeof table / sizeof table[0]) || field < -1 || field > 4) return (size_t)-1;
    return table[which][field + 1];
}

size_t mt_alignof(int which) {
    switch (which) {
    case 0: return _Alignof(struct mt_s1);
    case 1: return _Alignof(struct mt_s2);
    case 2: return _Alignof(struct mt_s3);
    case 3: return _Alignof(struct mt_s4);
    case 4: return _Alignof(struct mt_s5);
    case 5: return _Alignof(struct mt_s6);
    case 6: return _Alignof(struct mt_player);
    case 7: return _Alignof(struct mt_s7);
    default: return 0;
    }
}

/* p[i] = start + i for i < n. */
void mt_fill_i32(int32_t *p, int n, int32_t start) {
    for (int i = 0; i < n; i++) p[i] = start + i;
}

int64_t mt_sum_i32(const int32_t *p, int n) {
    int64_t s = 0;
    for (int i = 0; i < n; i++) s += p[i];
    return s;
}

/* snprintf into a caller's buffer. */
int mt_format(char *buf, size_t n, int v, double d) {
    return snprintf(buf, n, "value=%d half=%.1f", v, d);
}

/* Reads a Player filled from Lua. */
int32_t mt_player_score(const struct mt_player *p) {
    return p->health * 1000 + (int32_t)(p->x * 10) + (int32_t)(p->y) + p->name[0];
}

/* Fills an mt_s3 so that Lua reads it through a view. */
void mt_fill_s3(struct mt_s3 *s) {
    s->x = -7;
    s->inner.a = 'q';
    s->inner.b = 2.5;
    s->inner.c = -1;
    s->tail = 200;
}

/* The bytes of a C string written from Lua, summed. */
unsigned mt_byte_sum(const char *s) {
    unsigned sum = 0;
    while (*s) sum += (unsigned char)*s++;
    return sum;
}

/* A pointer stored in memory from Lua, read back. */
int32_t mt_deref_i32_at(void *const *slot) { return *(const int32_t *)*slot; }
