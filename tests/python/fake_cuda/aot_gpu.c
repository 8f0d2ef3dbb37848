/* Calls the GPU exports of an ahead-of-time library (tests/python/test_aot.py
 * builds gscale.py with --target x86-64-v2,cuda:sm_80,sm_90) on the fake CUDA
 * driver ($EMBER_CUDA_DRIVER): a launch hook plays each kernel from its
 * parameter slots as the PTX would, so the results show that the library
 * passed the right parameters. Exits 0 when every check holds. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gscale.h"

static int failures;

static void check(int ok, const char *what) {
  if (!ok) fprintf(stderr, "FAILED: %s (last error: %s)\n", what, gscale_last_error()), failures++;
}

enum { TILE = 4096 };

/* norm2's three kernels (codegen.h): tiles of x (or of partials) into
 * partials of 16 bytes (a double and its compensation), then the result. */
static void play_norm2(const char *entry, const uint64_t *slots) {
  if (strstr(entry, "_finish")) {
    *(double *)slots[1] = *(const double *)slots[0];
    return;
  }
  int merge = strstr(entry, "_merge") != NULL;
  const double *in = (const double *)slots[0];
  double *partials = (double *)slots[merge ? 1 : 1];
  uint64_t segment = slots[2], pieces = slots[3], tiles = slots[4];
  for (uint64_t t = 0; t < tiles; t++) {
    double sum = 0;
    for (uint64_t i = t * TILE; i < (t + 1) * TILE && i < segment && t < pieces; i++)
      sum += merge ? in[2 * i] : in[i] * in[i];
    partials[2 * t] = sum, partials[2 * t + 1] = 0;
  }
}

static void play(const char *entry, int nparams, const uint64_t *slots, unsigned grid, unsigned block) {
  if (strstr(entry, "norm2")) {
    check(block == 256, "a reduction runs blocks of 256 threads");
    play_norm2(entry, slots);
  } else if (strstr(entry, "axpy")) { /* x, y, out, n */
    const float *x = (const float *)slots[0], *y = (const float *)slots[1];
    float *out = (float *)slots[2];
    for (uint64_t i = 0; i < slots[3]; i++) out[i] = 2.0f * x[i] + y[i];
  } else if (strstr(entry, "scale")) { /* out (ptr, 2 extents, 2 strides), a (same), v, 2 extents, error */
    double *out = (double *)slots[0], *a = (double *)slots[5], v;
    memcpy(&v, &slots[10], 8);
    for (uint64_t i = 0; i < slots[11]; i++)
      for (uint64_t j = 0; j < slots[12]; j++)
        out[i * slots[3] + j * slots[4]] = a[i * slots[8] + j * slots[9]] * v;
    check(slots[13] != 0, "a bounds-checked kernel gets an error buffer");
  } else {
    fprintf(stderr, "unexpected kernel %s (%d parameters)\n", entry, nparams), failures++;
  }
}

int main(void) {
  void *driver = dlopen(getenv("EMBER_CUDA_DRIVER"), RTLD_NOW);
  if (!driver) return fprintf(stderr, "no fake driver: %s\n", dlerror()), 2;
  ((void (*)(void *))dlsym(driver, "fake_set_launch_hook"))((void *)play);
  long (*module_loads)(void) = (long (*)(void))dlsym(driver, "fake_module_loads");
  enum { N = 1000, R = 7, C = 9 };
  float x[N], y[N], out[N];
  for (int i = 0; i < N; i++) x[i] = i * 0.5f, y[i] = 1.0f;
  for (int round = 0; round < 3; round++)
    check(axpy(N, (unsigned long long)x, (unsigned long long)y, (unsigned long long)out, NULL) == EMBER_OK,
          "axpy returns EMBER_OK");
  check(out[10] == 11.0f && out[N - 1] == 2.0f * x[N - 1] + 1.0f, "axpy's parameters");
  double a[R * C], o[C * R];
  for (int i = 0; i < R * C; i++) a[i] = i;
  /* a transposed view: strides in bytes, any order */
  ember_array at = {a, 2, {C, R}, {8, C * 8}}, ot = {o, 2, {C, R}, {R * 8, 8}};
  check(scale(C, R, &ot, &at, 3.0, NULL) == EMBER_OK, "scale returns EMBER_OK");
  check(o[2 * R + 5] == a[5 * C + 2] * 3.0, "scale's parameters (shape, strides in elements, v)");
  check(module_loads() == 2, "each module loads once (one per export)");
  long loads = module_loads();
  check(axpy(-1, 0, 0, 0, NULL) == EMBER_EINVAL, "n < 0 is EMBER_EINVAL");
  check(axpy(5, (unsigned long long)x, 0, (unsigned long long)out, NULL) == EMBER_EINVAL,
        "a null device pointer is EMBER_EINVAL");
  check(strstr(gscale_last_error(), "'y'") != NULL, "the message names the argument");
  enum { M = 3 * TILE * TILE + 5 }; /* three levels: tiles, merged twice */
  double *v = malloc(M * sizeof(double)), total = -1;
  for (int i = 0; i < M; i++) v[i] = (i % 3) * 0.5;
  check(norm2(M, (unsigned long long)v, (unsigned long long)&total, NULL) == EMBER_OK, "norm2 returns EMBER_OK");
  double want = 0;
  for (int i = 0; i < M; i++) want += v[i] * v[i];
  check(total == want, "norm2's tiles, merges and finish");
  check(norm2(0, (unsigned long long)v, (unsigned long long)&total, NULL) == EMBER_OK && total == 0,
        "an empty sum is 0");
  free(v);
  ember_array flat = {a, 1, {R * C}, {8}};
  check(scale(C, R, &ot, &flat, 3.0, NULL) == EMBER_EINVAL, "an array of the wrong rank");
  check(module_loads() == loads + 1, "the reduction's module (three kernels) loads once");
  printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
