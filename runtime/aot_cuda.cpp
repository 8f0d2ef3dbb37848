// GPU exports of ahead-of-time libraries (aot_cuda.h). The parameters are
// those codegen.h documents for ptx(): contiguous arrays for a map, a
// kernel's arrays as pointer, shape and strides in elements.
#include "runtime/aot_cuda.h"

#include <cstring>

#include "runtime/aot_abi.h"
#include "runtime/run_kernel.h"

namespace ember::runtime {
namespace {

// The architecture's number: "sm_80" -> 80, "sm_90a" -> 90.
int arch_number(const std::string& arch) { return std::atoi(arch.c_str() + 3); }

}  // namespace

std::shared_ptr<cuda::Module> GpuExport::module(int device) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = modules_.find(device);
  if (found != modules_.end()) return found->second;
  cuda::DeviceInfo info = cuda::device_info(device);
  int cc = info.major * 10 + info.minor;
  const std::string* best = nullptr;
  std::string archs;
  for (const auto& [arch, text] : ptx_) {
    archs += (archs.empty() ? "" : ", ") + arch;
    if (arch_number(arch) <= cc && (!best || arch_number(arch) > arch_number(*best)))
      best = &arch;
  }
  if (!best)
    throw GpuArchError("device " + std::to_string(device) + " (" + info.name + ") is sm_" +
                                std::to_string(cc) + "; this library has PTX for " + archs +
                                " only (build it with an older --target cuda:sm_XX)");
  std::vector<std::string> entries = {entry_};
  if (reduction_) entries = {entry_, entry_ + "_merge", entry_ + "_finish"};
  auto module = std::make_shared<cuda::Module>(device, ptx_.at(*best), entries,
                                               reduction_ ? codegen::kGpuReduceBlock : 0);
  modules_[device] = module;
  return module;
}

void GpuExport::call(const Kernel& kernel, void* const* argv) {
  const auto& params = kernel.optimized.params;
  std::vector<uint64_t> slots;
  int64_t threads = 1;
  int device = -1;
  size_t k = 0;
  std::unique_ptr<cuda::DeviceMemory> error;
  std::vector<std::vector<int64_t>> shapes(params.size());
  if (!kernel.source.is_kernel()) {
    threads = aot_arg<int64_t>(argv, k++);
    if (threads < 0) throw std::invalid_argument("n = " + std::to_string(threads) + " is negative");
    for (size_t i = 0; i <= params.size(); ++i) {
      slots.push_back(aot_arg<uint64_t>(argv, k++));
      if (!slots.back() && threads > 0)
        throw std::invalid_argument("argument '" + (i < params.size() ? params[i].name : "out") +
                                    "' is a null device pointer");
    }
    if (kernel.options.reduction) {
      reduce(kernel, slots, threads, aot_arg<cuda::Stream>(argv, k));
      return;
    }
    slots.push_back(static_cast<uint64_t>(threads));
    if (threads > 0) device = cuda::device_of(slots[params.size()]);
  } else {
    std::vector<int64_t> extents = aot_domain(argv, kernel.source.domain);
    for (int64_t extent : extents) threads *= extent;
    k = extents.size();
    for (size_t i = 0; i < params.size(); ++i, ++k) {
      const ir::Type& type = params[i].type;
      if (type.ndim == 0) {
        uint64_t slot = 0;
        std::memcpy(&slot, argv[k], ir::bits_of(type.scalar) / 8);
        slots.push_back(slot);
        continue;
      }
      codegen::ArrayArg a = aot_array(aot_arg<const ember_aot_array*>(argv, k), params[i]);
      if (!a.data) throw std::invalid_argument("array '" + params[i].name + "' is a null pointer");
      slots.push_back(reinterpret_cast<uint64_t>(a.data));
      slots.insert(slots.end(), a.shape, a.shape + type.ndim);
      slots.insert(slots.end(), a.strides, a.strides + type.ndim);
      shapes[i].assign(a.shape, a.shape + type.ndim);
      if (device < 0) device = cuda::device_of(reinterpret_cast<uint64_t>(a.data));
    }
    slots.insert(slots.end(), extents.begin(), extents.end());
    if (device < 0) device = 0;
    if (kernel.options.boundscheck && threads > 0) {
      error = std::make_unique<cuda::DeviceMemory>(device, sizeof(codegen::GpuKernelError));
      cuda::zero(device, error->ptr(), error->bytes());
    }
    slots.push_back(error ? error->ptr() : 0);
  }
  auto stream = aot_arg<cuda::Stream>(argv, k);
  if (threads == 0) return;
  module(device)->launch(0, threads, slots, stream);
  if (!error) return;
  cuda::synchronize_stream(device, stream);
  codegen::GpuKernelError e;
  cuda::copy_to_host(device, &e, error->ptr(), sizeof e);
  if (e.failed) throw kernel_index_error(kernel, e.error, shapes.at(e.error.param));
}

// A whole reduction of n elements (codegen.h's GPU reduce): tiles of the
// input into partials, partials merged until one is left, its value
// written to `slots`' last pointer. Waits for the stream before the
// partials are freed.
void GpuExport::reduce(const Kernel& kernel, std::vector<uint64_t> slots, int64_t n,
                       cuda::Stream stream) {
  if (n == 0 && (kernel.options.reduction->op == ir::Op::Minimum ||
                 kernel.options.reduction->op == ir::Op::Maximum))
    throw std::invalid_argument("zero-size array to a min/max reduction, which has no identity");
  uint64_t result = slots.back();
  slots.pop_back();
  int device = cuda::device_of(result);
  std::shared_ptr<cuda::Module> mod = module(device);
  constexpr int64_t tile = codegen::kGpuReduceTile, block = codegen::kGpuReduceBlock;
  int64_t segment = n, pieces = std::max<int64_t>(1, (n + tile - 1) / tile);
  auto partials = std::make_unique<cuda::DeviceMemory>(device, pieces * codegen::kGpuPartialBytes);
  slots.insert(slots.end(), {partials->ptr(), static_cast<uint64_t>(segment),
                             static_cast<uint64_t>(pieces), static_cast<uint64_t>(pieces)});
  mod->launch(0, pieces * block, slots, stream);
  while (pieces > 1) {
    segment = pieces;
    pieces = (pieces + tile - 1) / tile;
    auto merged = std::make_unique<cuda::DeviceMemory>(device, pieces * codegen::kGpuPartialBytes);
    uint64_t merge[] = {partials->ptr(), merged->ptr(), static_cast<uint64_t>(segment),
                        static_cast<uint64_t>(pieces), static_cast<uint64_t>(pieces)};
    mod->launch(1, pieces * block, merge, stream);
    cuda::synchronize_stream(device, stream);  // before the old partials go
    partials = std::move(merged);
  }
  uint64_t finish[] = {partials->ptr(), result, 1};
  mod->launch(2, 1, finish, stream);
  cuda::synchronize_stream(device, stream);
}

}  // namespace ember::runtime
