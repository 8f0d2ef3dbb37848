/* A stand-in for libcuda.so.1 (loaded through $EMBER_CUDA_DRIVER) for the
 * tests of machines without a GPU. "Device" memory is host memory, so the
 * test can read it; a launch parses the kernel's parameter list from the PTX
 * it was loaded from and hands the parameter slots to a hook the test
 * installs (fake_set_launch_hook), which plays the kernel. FAKE_CUDA_MODE
 * picks a failure: 1 cuInit fails, 2 the PTX does not load, 3 the next
 * synchronization reports a kernel fault, 4 the device has no memory pools
 * (memory from cuMemAlloc), 5 copies and launches take 100 ms each (a caller
 * holding the GIL would stop other Python threads that long), 6 the memory
 * pool runs out until it is trimmed, 7 the device never finishes its work
 * (cuStreamQuery says not ready). Allocations over 1 GiB run out of
 * memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (*Hook)(const char* entry, int nparams, const uint64_t* slots, unsigned grid,
                     unsigned block);
static Hook hook;
static long live, launches;
static int faulted;

static int mode(void) { const char* m = getenv("FAKE_CUDA_MODE"); return m ? atoi(m) : 0; }

void fake_set_launch_hook(Hook h) { hook = h; }
long fake_live_allocations(void) { return live; }
long fake_launches(void) { return launches; }

int cuInit(unsigned flags) { return mode() == 1 ? 100 : 0; } /* CUDA_ERROR_NO_DEVICE */
int cuDriverGetVersion(int* v) { *v = 12040; return 0; }
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int ordinal) { *d = ordinal; return ordinal == 0 ? 0 : 101; }
int cuDeviceGetName(char* name, int len, int d) { strncpy(name, "Fake GPU", len); return 0; }
int cuDeviceGetAttribute(int* v, int attr, int d) {  /* 115: memory pools supported */
  *v = attr == 75 ? 8 : attr == 76 ? 6 : attr == 16 ? 84 : attr == 115 ? mode() != 4 : 0;
  return 0; }
int cuDeviceTotalMem_v2(size_t* bytes, int d) { *bytes = (size_t)24 << 30; return 0; }

static const char* names[][2] = {
  {"100", "CUDA_ERROR_NO_DEVICE"}, {"101", "CUDA_ERROR_INVALID_DEVICE"},
  {"2", "CUDA_ERROR_OUT_OF_MEMORY"}, {"218", "CUDA_ERROR_INVALID_PTX"},
  {"700", "CUDA_ERROR_ILLEGAL_ADDRESS"}, {"500", "CUDA_ERROR_NOT_FOUND"}};
static const char* texts[] = {"no CUDA-capable device is detected", "invalid device ordinal",
  "out of memory", "a PTX JIT compilation failed", "an illegal memory access was encountered",
  "named symbol not found"};
static int find(int e) {
  for (int i = 0; i < 6; ++i) if (atoi(names[i][0]) == e) return i;
  return -1; }
int cuGetErrorName(int e, const char** s) { int i = find(e); *s = i < 0 ? 0 : names[i][1];
  return i < 0; }
int cuGetErrorString(int e, const char** s) { int i = find(e); *s = i < 0 ? 0 : texts[i];
  return i < 0; }

static int context = 1;
int cuDevicePrimaryCtxRetain(void** ctx, int device) { *ctx = &context; return 0; }
int cuCtxSetCurrent(void* ctx) { return ctx == &context ? 0 : 201; }
static int sync_status(void) { return faulted ? 700 : 0; }
int cuCtxSynchronize(void) { return sync_status(); }
int cuStreamSynchronize(uintptr_t stream) { return sync_status(); }
/* Mode 7: the device never finishes (only an interrupted wait ends). */
int cuStreamQuery(uintptr_t stream) { return mode() == 7 ? 600 : sync_status(); }

static long plain_allocations;
static uint64_t release_threshold;
long fake_plain_allocations(void) { return plain_allocations; }
uint64_t fake_release_threshold(void) { return release_threshold; }
int cuMemAllocAsync(uint64_t* p, size_t bytes, uintptr_t stream) {
  if (bytes > ((size_t)1 << 30)) return 2;
  *p = (uint64_t)(uintptr_t)malloc(bytes);
  ++live;
  return 0; }
int cuMemFreeAsync(uint64_t p, uintptr_t stream) { free((void*)(uintptr_t)p); --live; return 0; }
int cuMemAlloc_v2(uint64_t* p, size_t bytes) { ++plain_allocations; return cuMemAllocAsync(p, bytes, 0); }
int cuMemFree_v2(uint64_t p) { return cuMemFreeAsync(p, 0); }
/* One pool, created once, with the properties ember asks for (CUmemPoolProps:
 * pinned, no handle types, on device 0, the other 72 bytes zero). */
static int pool, pools_created, trims;
long fake_pools_created(void) { return pools_created; }
long fake_pool_trims(void) { return trims; }
#ifndef FAKE_CUDA_BEFORE_POOLS  /* a driver older than CUDA 11.2 has none of these */
int cuMemPoolCreate(void** p, const int* props) {
  const unsigned char* rest = (const unsigned char*)(props + 4);
  for (int i = 0; i < 72; ++i) if (rest[i]) return 1;
  if (props[0] != 1 || props[1] != 0 || props[2] != 1 || props[3] != 0) return 1;
  ++pools_created;
  *p = &pool;
  return 0; }
int cuMemPoolSetAttribute(void* p, int attr, void* value) {  /* 4: the release threshold */
  if (p != &pool || attr != 4) return 1;
  release_threshold = *(uint64_t*)value;
  return 0; }
int cuMemPoolTrimTo(void* p, size_t keep) { if (p != &pool) return 1; ++trims; return 0; }
int cuMemAllocFromPoolAsync(uint64_t* p, size_t bytes, void* from, uintptr_t stream) {
  if (from != &pool) return 1;
  if (mode() == 6 && !trims) return 2;
  return cuMemAllocAsync(p, bytes, 0); }
#endif
int cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
  *free_bytes = (size_t)1 << 30; *total = (size_t)24 << 30; return 0; }
static void slow(void) { if (mode() == 5) usleep(100000); }
int cuMemcpyHtoD_v2(uint64_t dst, const void* src, size_t n) {
  slow();
  memcpy((void*)(uintptr_t)dst, src, n); return sync_status(); }
int cuMemcpyDtoH_v2(void* dst, uint64_t src, size_t n) {
  slow();
  memcpy(dst, (void*)(uintptr_t)src, n); return sync_status(); }
int cuMemcpyDtoD_v2(uint64_t dst, uint64_t src, size_t n) {
  memcpy((void*)(uintptr_t)dst, (void*)(uintptr_t)src, n); return 0; }
int cuMemsetD8_v2(uint64_t p, unsigned char v, size_t n) {
  memset((void*)(uintptr_t)p, v, n); return 0; }
int cuPointerGetAttribute(void* value, int attribute, uint64_t p) {
  *(int*)value = 0; return attribute == 9 ? 0 : 1; }

/* A kernel: its name and the byte size of each parameter; a module: its kernels. */
typedef struct { char entry[256]; int nparams; int sizes[64]; } Function;
typedef struct { int count; Function functions[4]; } Module;

static long module_loads;
long fake_module_loads(void) { return module_loads; }
int cuModuleLoadDataEx(Module** m, const char* ptx, unsigned n, int* options, void** values) {
  ++module_loads;
  if (mode() == 2) {
    for (unsigned i = 0; i < n; ++i)
      if (options[i] == 5) strcpy((char*)values[i], "ptxas fatal: fake JIT failure");
    return 218;
  }
  Module* mod = calloc(1, sizeof *mod);
  for (const char* e = strstr(ptx, ".entry "); e && mod->count < 4; e = strstr(e, ".entry ")) {
    Function* f = &mod->functions[mod->count++];
    e += 7;
    size_t len = strcspn(e, "(");
    memcpy(f->entry, e, len < 255 ? len : 255);
    for (const char* p = strstr(e, ".param ."); p && p < strchr(e, ')');
         p = strstr(p + 1, ".param ."))
      f->sizes[f->nparams++] = atoi(p + 9) / 8;  /* .u64 .f32 .b8: the width follows a letter */
  }
  if (!mod->count) { free(mod); return 218; }
  *m = mod;
  return 0; }
int cuModuleUnload(Module* m) { free(m); return 0; }
int cuModuleGetFunction(Function** f, Module* m, const char* name) {
  for (int i = 0; i < m->count; ++i)
    if (!strcmp(name, m->functions[i].entry)) { *f = &m->functions[i]; return 0; }
  return 500; }
int cuOccupancyMaxPotentialBlockSize(int* min_grid, int* block, Function* f, void* fn,
                                     size_t smem, int limit) {
  *min_grid = 4; *block = 128; return 0; }
int cuLaunchKernel(Function* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                   unsigned bz, unsigned smem, uintptr_t stream, void** params, void** extra) {
  uint64_t slots[64] = {0};
  for (int i = 0; i < f->nparams; ++i) memcpy(&slots[i], params[i], f->sizes[i]);
  ++launches;
  slow();
  if (hook) hook(f->entry, f->nparams, slots, gx, bx);
  if (mode() == 3) faulted = 1;
  return 0; }
