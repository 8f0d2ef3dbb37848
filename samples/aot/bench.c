/* Times libpricing from C (python -m ember.bench_aot builds it and runs this):
 * dlopen to the first call's return, then the best of several calls of each
 * export at n elements, each result checked against a plain C loop first.
 *
 *   cc -O2 bench.c -Ibuild -ldl -lm -o bench && ./bench build/libpricing.so 10000000 5
 * prints one JSON object. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pricing.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *find(void *lib, const char *name) {
  void *f = dlsym(lib, name);
  if (!f) fprintf(stderr, "no %s: %s\n", name, dlerror()), exit(2);
  return f;
}

static void expect(int ok, const char *what) {
  if (!ok) fprintf(stderr, "wrong result: %s\n", what), exit(1);
}

static double price_ref(double s, double k, double t) {
  double d1 = (log(s / k) + (0.02 + 0.5 * 0.3 * 0.3) * t) / (0.3 * sqrt(t)), d2 = d1 - 0.3 * sqrt(t);
  return s * 0.5 * (1.0 + erf(d1 * 0.7071067811865476)) -
         k * exp(-0.02 * t) * 0.5 * (1.0 + erf(d2 * 0.7071067811865476));
}

#define BEST(repeat, call)                          \
  ({                                                \
    double best_ = 1e30;                            \
    for (int r_ = 0; r_ < (repeat); r_++) {         \
      double t0_ = now();                           \
      expect((call) == EMBER_OK, #call);            \
      best_ = fmin(best_, now() - t0_);             \
    }                                               \
    best_ * 1e3;                                    \
  })

int main(int argc, char **argv) {
  if (argc != 4) return fprintf(stderr, "usage: bench LIBRARY N REPEAT\n"), 2;
  long n = atol(argv[2]), side = (long)sqrt((double)n);
  int repeat = atoi(argv[3]);
  double *s = malloc(n * 8), *k = malloc(n * 8), *t = malloc(n * 8), *out = malloc(n * 8);
  float *s32 = malloc(n * 4), *k32 = malloc(n * 4), *t32 = malloc(n * 4), *out32 = malloc(n * 4);
  for (long i = 0; i < n; i++) {
    s[i] = s32[i] = (float)(50 + (i % 1000) * 0.1), k[i] = k32[i] = (float)(60 + i % 37);
    t[i] = t32[i] = (float)(0.25 + (i % 11) * 0.2);
  }
  double t0 = now();
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) return fprintf(stderr, "%s\n", dlerror()), 2;
  int (*price_f64)(int64_t, const double *, const double *, const double *, double *) = find(lib, "price_f64");
  int (*price_f32)(int64_t, const float *, const float *, const float *, float *) = find(lib, "price_f32");
  int (*dot)(int64_t, const double *, const double *, double *) = find(lib, "dot");
  int (*blur)(int64_t, int64_t, const ember_array *, const ember_array *) = find(lib, "blur");
  expect(price_f64(1, s, k, t, out) == EMBER_OK, "first call");
  double load_ms = (now() - t0) * 1e3;
  double result = 0, want = 0;
  expect(price_f64(n, s, k, t, out) == EMBER_OK && price_f32(n, s32, k32, t32, out32) == EMBER_OK, "price");
  for (long i = 0; i < n; i += 1 + n / 1000)
    expect(fabs(out[i] - price_ref(s[i], k[i], t[i])) < 1e-9 && fabs(out32[i] - out[i]) < 1e-3 * fmax(1, out[i]),
           "price");
  expect(dot(n, s, t, &result) == EMBER_OK, "dot");
  for (long i = 0; i < n; i++) want += s[i] * t[i];
  expect(fabs(result - want) <= 1e-9 * fabs(want), "dot");
  ember_array a = {s, 2, {side, side}, {side * 8, 8}}, o = {out, 2, {side, side}, {side * 8, 8}};
  expect(blur(side, side, &o, &a) == EMBER_OK, "blur");
  double mid = 0;
  for (int di = -1; di <= 1; di++)
    for (int dj = -1; dj <= 1; dj++) mid += s[(side / 2 + di) * side + side / 2 + dj];
  expect(side < 3 || fabs(out[(side / 2) * side + side / 2] - mid / 9) < 1e-12, "blur");
  printf("{\"n\": %ld, \"load_ms\": %.3f, \"price_f64\": %.5f, \"price_f32\": %.5f, \"dot\": %.5f, "
         "\"blur\": %.5f, \"blur_side\": %ld}\n",
         n, load_ms, BEST(repeat, price_f64(n, s, k, t, out)), BEST(repeat, price_f32(n, s32, k32, t32, out32)),
         BEST(repeat, dot(n, s, t, &result)), BEST(repeat, blur(side, side, &o, &a)), side);
  return 0;
}
