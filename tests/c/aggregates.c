/* Large structs by value: through calls, callbacks and results (tests/lua/aggregates.lua). */
#include <stdint.h>

struct big { uint8_t bytes[4096]; };

uint32_t big_sum(struct big s) {
    uint32_t sum = 0;
    for (int i = 0; i < 4096; i++) sum += s.bytes[i];
    return sum;
}

struct big big_filled(uint8_t value) {
    struct big s;
    for (int i = 0; i < 4096; i++) s.bytes[i] = (uint8_t)(value + i);
    return s;
}

uint32_t big_through_callback(uint32_t (*f)(struct big), uint8_t value) {
    return f(big_filled(value));
}

uint32_t big_from_callback(struct big (*f)(uint8_t), uint8_t value) {
    return big_sum(f(value));
}
