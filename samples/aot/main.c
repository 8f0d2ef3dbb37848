/* Calls every export of libpricing (built from pricing.py by `ember aot build`)
 * and checks the results against plain C loops; exits 0 only if all agree.
 * Four threads call at once, and bad arguments must give error codes.
 *
 *   cc -O2 main.c -Ibuild -Lbuild -lpricing -lm -lpthread -Wl,-rpath,build    (shared)
 *   cc -O2 main.c -Ibuild build/libpricing.a -lstdc++ -lmvec -lm -lpthread  (static)
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pricing.h"

static int failures = 0;

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s (last error: %s)\n", what, pricing_last_error());
    failures++;
  }
}

static double reference_price(double s, double k, double t) {
  double d1 = (log(s / k) + (0.02 + 0.5 * 0.3 * 0.3) * t) / (0.3 * sqrt(t));
  double d2 = d1 - 0.3 * sqrt(t);
  double n1 = 0.5 * (1.0 + erf(d1 * 0.7071067811865476));
  double n2 = 0.5 * (1.0 + erf(d2 * 0.7071067811865476));
  return s * n1 - k * exp(-0.02 * t) * n2;
}

enum { N = 100003, ROWS = 123, COLS = 77 };

static void check_price(void) {
  double *s = malloc(N * sizeof(double)), *k = malloc(N * sizeof(double));
  double *t = malloc(N * sizeof(double)), *out = malloc(N * sizeof(double));
  float *sf = malloc(N * sizeof(float)), *kf = malloc(N * sizeof(float));
  float *tf = malloc(N * sizeof(float)), *outf = malloc(N * sizeof(float));
  for (int i = 0; i < N; i++) {
    s[i] = sf[i] = (float)(50.0 + (i % 1000) * 0.1);
    k[i] = kf[i] = (float)(60.0 + (i % 37));
    t[i] = tf[i] = (float)(0.25 + (i % 11) * 0.2);
  }
  check(price_f64(N, s, k, t, out) == EMBER_OK, "price_f64 returns EMBER_OK");
  check(price_f32(N, sf, kf, tf, outf) == EMBER_OK, "price_f32 returns EMBER_OK");
  double worst = 0, worst_f = 0;
  for (int i = 0; i < N; i++) {
    double want = reference_price(s[i], k[i], t[i]);
    worst = fmax(worst, fabs(out[i] - want) / fmax(1.0, fabs(want)));
    worst_f = fmax(worst_f, fabs(outf[i] - want) / fmax(1.0, fabs(want)));
  }
  check(worst < 1e-12, "price_f64 agrees with C");
  check(worst_f < 1e-4, "price_f32 agrees with C");
  /* The strided form: s and k broadcast (one value each, stride 0). */
  ember_array sa = {s, 1, {N}, {0}}, ka = {k, 1, {N}, {0}}, ta = {t, 1, {N}, {sizeof(double)}};
  ember_array oa = {out, 1, {N}, {sizeof(double)}};
  check(price_f64_nd(&sa, &ka, &ta, &oa) == EMBER_OK, "price_f64_nd returns EMBER_OK");
  for (int i = 0; i < N; i++)
    if (fabs(out[i] - reference_price(s[0], k[0], t[i])) > 1e-9) {
      check(0, "price_f64_nd broadcasts");
      break;
    }
  /* Bad arguments: error codes and messages, nothing written. */
  check(price_f64(-1, s, k, t, out) == EMBER_EINVAL, "n < 0 is EMBER_EINVAL");
  check(strstr(pricing_last_error(), "negative") != NULL, "the message says why");
  check(price_f64(10, s, NULL, t, out) == EMBER_EINVAL, "a null pointer is EMBER_EINVAL");
  check(strstr(pricing_last_error(), "'k'") != NULL, "the message names the argument");
  ember_array wrong = {out, 1, {N - 1}, {sizeof(double)}};
  check(price_f64_nd(&sa, &ka, &ta, &wrong) == EMBER_EINVAL, "shapes that do not broadcast");
  check(price_f64(0, NULL, NULL, NULL, out) == EMBER_OK, "n = 0 is fine");
  free(s), free(k), free(t), free(out), free(sf), free(kf), free(tf), free(outf);
}

static void check_dot(void) {
  double *x = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double)), result = 0, want = 0;
  for (int i = 0; i < N; i++) x[i] = 1.0 / (i + 1), y[i] = (i % 7) - 3.0;
  for (int i = 0; i < N; i++) want += x[i] * y[i];
  check(dot(N, x, y, &result) == EMBER_OK, "dot returns EMBER_OK");
  check(fabs(result - want) < 1e-12 * N, "dot agrees with C");
  double again = 0;
  pricing_set_num_threads(1);
  check(dot(N, x, y, &again) == EMBER_OK && again == result, "dot: bit-identical with one thread");
  pricing_set_num_threads(0);
  check(pricing_set_num_threads(-3) == EMBER_EINVAL, "set_num_threads(-3) is EMBER_EINVAL");
  check(dot(N, x, y, NULL) == EMBER_EINVAL, "a null result is EMBER_EINVAL");
  free(x), free(y);
}

static void check_blur(void) {
  double *a = malloc(ROWS * COLS * sizeof(double)), *out = malloc(ROWS * COLS * sizeof(double));
  for (int i = 0; i < ROWS * COLS; i++) a[i] = sin(i * 0.01);
  ember_array aa = {a, 2, {ROWS, COLS}, {COLS * sizeof(double), sizeof(double)}};
  ember_array oa = {out, 2, {ROWS, COLS}, {COLS * sizeof(double), sizeof(double)}};
  check(blur(ROWS, COLS, &oa, &aa) == EMBER_OK, "blur returns EMBER_OK");
  double worst = 0;
  for (int i = 0; i < ROWS; i++)
    for (int j = 0; j < COLS; j++) {
      double total = 0;
      for (int di = -1; di <= 1; di++)
        for (int dj = -1; dj <= 1; dj++) {
          int r = i + di < 0 ? 0 : i + di >= ROWS ? ROWS - 1 : i + di;
          int c = j + dj < 0 ? 0 : j + dj >= COLS ? COLS - 1 : j + dj;
          total += a[r * COLS + c];
        }
      worst = fmax(worst, fabs(out[i * COLS + j] - total / 9.0));
    }
  check(worst < 1e-14, "blur agrees with C");
  /* A transposed view (last axis not contiguous) runs the any-stride code. */
  ember_array at = {a, 2, {COLS, ROWS}, {sizeof(double), COLS * sizeof(double)}};
  double *outt = malloc(ROWS * COLS * sizeof(double));
  ember_array ot = {outt, 2, {COLS, ROWS}, {ROWS * sizeof(double), sizeof(double)}};
  check(blur(COLS, ROWS, &ot, &at) == EMBER_OK, "blur of a transposed view");
  check(fabs(outt[3 * ROWS + 5] - out[5 * COLS + 3]) < 1e-14, "blur of a transposed view agrees");
  ember_array flat = {a, 1, {ROWS * COLS}, {sizeof(double)}};
  check(blur(ROWS, COLS, &oa, &flat) == EMBER_EINVAL, "an array of the wrong rank");
  check(strstr(pricing_last_error(), "ndim") != NULL, "the message names the rank");
  free(a), free(out), free(outt);
}

static void *worker(void *arg) {
  double *x = arg, result = 0, first = 0;
  for (int round = 0; round < 50; round++) {
    if (dot(N, x, x, &result) != EMBER_OK) return "dot failed in a thread";
    if (round == 0) first = result;
    if (result != first) return "dot differs between calls";
  }
  return NULL;
}

static void check_threads(void) {
  double *x = malloc(N * sizeof(double));
  for (int i = 0; i < N; i++) x[i] = cos(i * 0.001);
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, worker, x);
  for (int i = 0; i < 4; i++) {
    void *why;
    pthread_join(threads[i], &why);
    check(why == NULL, why ? (const char *)why : "");
  }
  free(x);
}

int main(void) {
  const char *info = pricing_info();
  printf("%s", info);
  check(strstr(info, "selected: ") != NULL, "pricing_info() names the selected ISA");
  if (strstr(info, "selected: none")) {
    /* EMBER_ISA names an ISA this CPU lacks: every call says so. */
    double x = 1, r;
    check(dot(1, &x, &x, &r) == EMBER_EISA, "a forced ISA this CPU lacks is EMBER_EISA");
    fprintf(stderr, "%s\n", pricing_last_error());
    return failures ? 1 : 3;
  }
  check_price();
  check_dot();
  check_blur();
  check_threads();
  printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
