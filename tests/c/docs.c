// Functions the examples of README.md and docs/ call (through TESTLIB), shown there.

typedef struct { double x, y; } v2;

v2 v2_add(v2 a, v2 b) { v2 r = { a.x + b.x, a.y + b.y }; return r; }

void divmod(int a, int b, int *q, int *r) { *q = a / b; *r = a % b; }
