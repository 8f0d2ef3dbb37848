// The runtime inside an ahead-of-time library (runtime/aot_abi.h): reads the
// library's table once, chooses the ISA, and runs each call through the same
// launch paths as the JIT (launch.cpp, reduce.cpp, run_kernel.cpp). Linked
// into every library `ember aot build` makes, without LLVM or Python.
//
// The table's fields (artifact.h's format): "format" ("ember-aot 1"),
// "library" (the stem), ember's versions, "isas" (comma-separated, the
// entries' order), "isa.NAME.features", "exports" (a count), and for export
// e: "export.e.name" (its C name), "export.e.function" (the Python
// function, for info), ".python", ".kind", ".op" (for ember.load),
// "export.e.signature", "export.e.general" (a kernel's variant for arrays
// of any stride: an export index, or ""), ".internal" ("1" for such a
// variant), the artifact fields "export.e.spec", ".optimized", ".calls",
// ".file" (kernel_text.cpp), and ".target": "cpu", or "cuda" with
// ".entry" and ".ptx.ARCH" for each of "gpu_archs" (aot_cuda.h).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>

#include "ir/ir.h"
#include "runtime/aot_abi.h"
#include "runtime/aot_cuda.h"
#include "runtime/cpu_features.h"
#include "runtime/launch.h"
#include "runtime/reduce.h"
#include "runtime/run_kernel.h"
#include "runtime/thread_pool.h"

namespace ember::runtime {
namespace {

thread_local std::string last_error;

// What the table says, read once per library.
struct Library {
  std::map<std::string, std::string> fields;
  std::vector<std::string> isas;
  std::vector<std::string> missing;  // per ISA: why this CPU cannot run it ("" if it can)
  int selected = -1;
  std::string select_error;  // why none is selected
  int exports = 0;
  std::vector<std::vector<std::shared_ptr<const Kernel>>> kernels;  // [isa][export]
  std::vector<std::unique_ptr<GpuExport>> gpu;  // per export: its GPU code, or null (a CPU export)
  std::vector<std::shared_ptr<const Kernel>> texts;  // per export, without entry points
  std::vector<int> general;  // per export: its any-stride variant, or -1

  const std::string& field(const std::string& name) const { return required(fields, name); }
  std::string field(int e, const char* name) const {
    return field("export." + std::to_string(e) + "." + name);
  }
};

// Why code for `features` cannot run here: the first feature missing, or "".
std::string lacking(const std::vector<std::string>& features) {
  const std::vector<std::string>& host = host_features();
  for (const std::string& f : features)
    if (!std::binary_search(host.begin(), host.end(), f)) return f;
  return "";
}

void choose_isa(Library& lib) {
  std::vector<size_t> counts;
  for (const std::string& isa : lib.isas) {
    std::vector<std::string> features = feature_list(lib.field("isa." + isa + ".features"));
    std::string missing = lacking(features);
    lib.missing.push_back(missing.empty() ? "" : isa + " needs '" + missing + "', which this CPU lacks");
    counts.push_back(features.size());
  }
  const char* forced = std::getenv("EMBER_ISA");
  if (forced && *forced) {
    auto it = std::find(lib.isas.begin(), lib.isas.end(), forced);
    if (it == lib.isas.end())
      lib.select_error = std::string("EMBER_ISA=") + forced + ", but library " +
                         lib.field("library") + " has code for " + lib.field("isas") + " only";
    else if (!lib.missing[it - lib.isas.begin()].empty())
      lib.select_error = std::string("EMBER_ISA=") + forced + ": " + lib.missing[it - lib.isas.begin()];
    else
      lib.selected = static_cast<int>(it - lib.isas.begin());
    return;
  }
  // The supported ISA with the most features, whatever order they were built in.
  for (size_t i = 0; i < lib.isas.size(); ++i)
    if (lib.missing[i].empty() && (lib.selected < 0 || counts[i] > counts[lib.selected]))
      lib.selected = static_cast<int>(i);
  if (lib.selected < 0) {
    lib.select_error = "no ISA of library " + lib.field("library") + " runs on this CPU:";
    for (const std::string& why : lib.missing) lib.select_error += " " + why + ";";
    lib.select_error.pop_back();
  }
}

// Export e's Kernel for ISA i: its texts' Kernel with the library's entries.
std::shared_ptr<const Kernel> with_entries(const Kernel& texts, void* const* at) {
  auto kernel = std::make_shared<Kernel>(texts);
  set_entries(*kernel, at);
  return kernel;
}

std::string describe(const Library& lib) {
  std::string text = "library " + lib.field("library") + " (ember " + lib.field("ember") +
                     ", LLVM " + lib.field("llvm") + ", " + lib.field("triple") + ")\nisas: " +
                     lib.field("isas") + "\nselected: ";
  const char* forced = std::getenv("EMBER_ISA");
  text += lib.selected >= 0 ? lib.isas[lib.selected] : "none (" + lib.select_error + ")";
  text += forced && *forced ? std::string(" (EMBER_ISA=") + forced + ")" : "";
  if (!lib.field("gpu_archs").empty()) text += "\ncuda: PTX for " + lib.field("gpu_archs");
  text += "\nthreads: " + std::to_string(num_threads()) + "\nexports:\n";
  for (int e = 0; e < lib.exports; ++e)
    if (lib.field(e, "internal") != "1") text += "  " + lib.field(e, "name") + ": " + lib.field(e, "function") + " " +
            lib.field(e, "signature") + "\n";
  return text;
}

Library* read_library(ember_aot_library* c) {
  auto lib = std::make_unique<Library>();
  lib->fields = read_artifact(std::string_view(c->table, static_cast<size_t>(c->table_size)));
  if (lib->field("format") != "ember-aot 1")
    throw std::runtime_error("library table of format '" + lib->field("format") + "'");
  lib->isas = feature_list(lib->field("isas"));  // comma-separated names
  lib->exports = std::stoi(lib->field("exports"));
  choose_isa(*lib);
  lib->kernels.resize(lib->isas.size());
  for (int e = 0; e < lib->exports; ++e) {
    std::string prefix = "export." + std::to_string(e) + ".";
    std::shared_ptr<Kernel> texts = kernel_from_texts(lib->fields, lib->field(prefix + "file"), prefix);
    lib->texts.push_back(texts);
    std::map<std::string, std::string> ptx;
    if (lib->field(prefix + "target") == "cuda")
      for (const std::string& arch : feature_list(lib->field("gpu_archs")))
        ptx[arch] = lib->field(prefix + "ptx." + arch);
    lib->gpu.push_back(ptx.empty() ? nullptr
                                   : std::make_unique<GpuExport>(ptx, lib->field(prefix + "entry"),
                                                                texts->options.reduction.has_value()));
    std::string general = lib->field(prefix + "general");
    lib->general.push_back(general.empty() ? -1 : std::stoi(general));
    for (size_t i = 0; i < lib->isas.size(); ++i)
      lib->kernels[i].push_back(with_entries(*texts, aot_entries(c, static_cast<int>(i), lib->exports, e)));
  }
  return lib.release();  // lives as long as the process (the library is never unloaded first)
}

std::mutex open_mu;

Library& library(ember_aot_library* c) {
  auto* state = reinterpret_cast<std::atomic<Library*>*>(&c->state);
  Library* lib = state->load(std::memory_order_acquire);
  if (lib) return *lib;
  std::lock_guard<std::mutex> lock(open_mu);
  lib = state->load(std::memory_order_relaxed);
  if (!lib) state->store(lib = read_library(c), std::memory_order_release);
  return *lib;
}

// The dtypes of a map's or reduce's operands: its parameters', then the
// output's (a reduction's accumulator).
std::vector<std::pair<ir::Scalar, std::string>> operand_types(const Kernel& kernel) {
  std::vector<std::pair<ir::Scalar, std::string>> types;
  for (const ir::Variable& p : kernel.optimized.params) types.push_back({p.type.scalar, p.name});
  types.push_back({kernel.result_scalar(), kernel.options.reduction ? "result" : "out"});
  return types;
}

Operand operand(ir::Scalar dtype, int ndim, char* data) {
  Operand op;
  op.data = data;
  op.dtype = dtype;
  op.shape.ndim = ndim;
  return op;
}

// The operands of a call in contiguous form: argv = n, then one pointer per
// parameter and the output's, each to n elements (a reduction's output: one).
std::vector<Operand> contiguous(const Kernel& kernel, void* const* argv) {
  int64_t n = aot_arg<int64_t>(argv, 0);
  if (n < 0) throw std::invalid_argument("n = " + std::to_string(n) + " is negative");
  std::vector<Operand> ops;
  auto types = operand_types(kernel);
  for (size_t i = 0; i < types.size(); ++i) {
    bool result = i + 1 == types.size();
    ops.push_back(operand(types[i].first, 1, aot_arg<char*>(argv, static_cast<int>(i) + 1)));
    ops.back().shape.dims[0] = n;
    ops.back().strides[0] = ir::bits_of(types[i].first) / 8;
    if (!ops.back().data && (n > 0 || result))
      throw std::invalid_argument("argument '" + types[i].second + "' is a null pointer");
  }
  if (kernel.options.reduction) ops.back().shape.ndim = 0;
  return ops;
}

// The operands of a call in strided form: argv = an ember_aot_array* per
// parameter, then the output's (a reduction's: a pointer to its value).
std::vector<Operand> strided(const Kernel& kernel, void* const* argv) {
  std::vector<Operand> ops;
  auto types = operand_types(kernel);
  for (size_t i = 0; i < types.size(); ++i) {
    const std::string& name = types[i].second;
    if (i + 1 == types.size() && kernel.options.reduction) {
      ops.push_back(operand(types[i].first, 0, aot_arg<char*>(argv, static_cast<int>(i))));
      if (!ops.back().data) throw std::invalid_argument("argument '" + name + "' is a null pointer");
      break;
    }
    const auto* a = aot_arg<const ember_aot_array*>(argv, static_cast<int>(i));
    if (!a) throw std::invalid_argument("array '" + name + "' is a null pointer");
    if (a->ndim < 0 || a->ndim > 4)
      throw std::invalid_argument("array '" + name + "' has ndim " + std::to_string(a->ndim) +
                                  " (0 to 4)");
    ops.push_back(operand(types[i].first, static_cast<int>(a->ndim), static_cast<char*>(a->data)));
    int64_t elements = 1;
    for (int d = 0; d < a->ndim; ++d) {
      if (a->shape[d] < 0)
        throw std::invalid_argument("array '" + name + "' has a negative extent on axis " + std::to_string(d));
      ops.back().shape.dims[d] = a->shape[d];
      ops.back().strides[d] = a->strides[d];
      elements *= a->shape[d];
    }
    if (!a->data && elements > 0) throw std::invalid_argument("array '" + name + "' has null data");
  }
  return ops;
}

void call_map(const Kernel& kernel, int32_t form, void* const* argv) {
  std::vector<Operand> ops = form == kAotStrided ? strided(kernel, argv) : contiguous(kernel, argv);
  Shape shape = broadcast_shape(ops);
  if (!(shape == ops.back().shape))
    throw std::invalid_argument("the inputs broadcast to " + broadcast_shape(std::span(ops).first(ops.size() - 1)).text() +
                                ", not to out's shape " + ops.back().shape.text());
  launch_elementwise(kernel, std::span(ops).first(ops.size() - 1), ops.back());
}

void call_reduce(const Kernel& kernel, int32_t form, void* const* argv) {
  std::vector<Operand> ops = form == kAotStrided ? strided(kernel, argv) : contiguous(kernel, argv);
  Operand out = ops.back();
  ops.pop_back();
  Shape shape = broadcast_shape(ops);
  if (shape.ndim == 0) {  // a reduction of one element: as a 1-d array of it
    shape = Shape{1, {1}};
    for (Operand& op : ops) op = operand(op.dtype, 1, op.data), op.shape.dims[0] = 1, op.strides[0] = 0;
  }
  bool reduced[kMaxDims];
  std::fill(reduced, reduced + kMaxDims, true);
  launch_reduce(kernel, ops, shape, reduced, out);
}

// A @kernel's arguments: argv = the domain's extents, then each parameter
// (a scalar's value, an array's ember_aot_array*). Chooses the any-stride
// variant when an array's last axis is not contiguous.
void call_kernel(const Library& lib, int isa, int exp, void* const* argv) {
  const Kernel* kernel = lib.kernels[isa][exp].get();
  int rank = kernel->source.domain;
  std::vector<int64_t> domain = aot_domain(argv, rank);
  const auto& params = kernel->optimized.params;
  std::vector<codegen::ArrayArg> arrays(params.size());
  std::vector<void*> args(params.size());
  bool unit = true;
  for (size_t i = 0; i < params.size(); ++i) {
    int ndim = params[i].type.ndim;
    args[i] = argv[rank + i];
    if (ndim == 0) continue;
    arrays[i] = aot_array(aot_arg<const ember_aot_array*>(argv, rank + i), params[i]);
    unit = unit && (arrays[i].strides[ndim - 1] == 1 || arrays[i].shape[ndim - 1] <= 1);
    args[i] = &arrays[i];
  }
  if (!unit && lib.general[exp] >= 0) kernel = lib.kernels[isa][lib.general[exp]].get();
  run_kernel(*kernel, args.data(), domain);
}

int32_t fail(int32_t status, const std::string& message) {
  last_error = message;
  return status;
}

}  // namespace

std::vector<int64_t> aot_domain(void* const* argv, int rank) {
  std::vector<int64_t> domain;
  for (int d = 0; d < rank; ++d) {
    domain.push_back(aot_arg<int64_t>(argv, d));
    if (domain.back() < 0)
      throw std::invalid_argument("domain extent " + std::to_string(domain.back()) + " is negative");
  }
  return domain;
}

codegen::ArrayArg aot_array(const ember_aot_array* a, const ir::Variable& param) {
  const ir::Type& type = param.type;
  std::string name = "array '" + param.name + "'";
  if (!a) throw std::invalid_argument(name + " is a null pointer");
  if (a->ndim != type.ndim)
    throw std::invalid_argument(name + " has ndim " + std::to_string(a->ndim) + ", the kernel takes " +
                                std::to_string(type.ndim));
  codegen::ArrayArg array{};
  int64_t itemsize = ir::bits_of(type.scalar) / 8, elements = 1;
  for (int d = 0; d < type.ndim; ++d) {
    if (a->shape[d] < 0 || a->strides[d] % itemsize != 0)
      throw std::invalid_argument(name + ": shape " + std::to_string(a->shape[d]) + ", stride " +
                                  std::to_string(a->strides[d]) + " bytes on axis " +
                                  std::to_string(d) + " (strides are multiples of the itemsize)");
    array.shape[d] = a->shape[d];
    array.strides[d] = a->strides[d] / itemsize;
    elements *= a->shape[d];
  }
  if (!a->data && elements > 0) throw std::invalid_argument(name + " has null data");
  array.data = a->data;
  return array;
}

}  // namespace ember::runtime

using namespace ember::runtime;

extern "C" int32_t ember_aot_invoke(ember_aot_library* c, int32_t exp, int32_t isa,
                                    int32_t form, void* const* argv) {
  try {
    Library& lib = library(c);
    if (lib.gpu[exp]) {  // queued on the caller's stream: no CPU ISA involved
      lib.gpu[exp]->call(*lib.texts[exp], argv);
      return kAotOk;
    }
    int at = isa < 0 ? lib.selected : isa;
    if (at < 0) return fail(kAotIsa, lib.select_error);
    if (!lib.missing[at].empty()) return fail(kAotIsa, lib.missing[at]);
    const Kernel& kernel = *lib.kernels[at][exp];
    if (kernel.source.is_kernel()) call_kernel(lib, at, exp, argv);
    else if (kernel.options.reduction) call_reduce(kernel, form, argv);
    else call_map(kernel, form, argv);
    return kAotOk;
  } catch (const ember::ir::IndexError& e) {
    return fail(kAotIndex, e.what());
  } catch (const std::bad_alloc&) {
    return fail(kAotMemory, "out of memory");
  } catch (const GpuArchError& e) {
    return fail(kAotIsa, e.what());
  } catch (const cuda::CudaError& e) {
    return fail(e.code == cuda::kOutOfMemory ? kAotMemory : kAotCuda, e.what());
  } catch (const std::invalid_argument& e) {
    return fail(kAotInvalid, e.what());
  } catch (const std::exception& e) {
    return fail(kAotInternal, e.what());
  }
}

extern "C" int32_t ember_aot_set_num_threads(ember_aot_library*, int32_t n) {
  if (n < 0 || n > 1024)
    return fail(kAotInvalid, "set_num_threads(" + std::to_string(n) + "): 0 (every core) to 1024");
  unsigned cores = std::thread::hardware_concurrency();
  set_num_threads(n == 0 ? static_cast<int>(cores ? cores : 1) : n);
  return kAotOk;
}

extern "C" const char* ember_aot_info(ember_aot_library* c) {
  static thread_local std::string info;
  try {
    info = describe(library(c));
    return info.c_str();
  } catch (const std::exception& e) {
    fail(kAotInternal, e.what());
    return last_error.c_str();
  }
}

extern "C" const char* ember_aot_last_error(ember_aot_library*) { return last_error.c_str(); }

extern "C" int32_t ember_aot_select(ember_aot_library* c) {
  try {
    Library& lib = library(c);
    if (lib.selected < 0) fail(kAotIsa, lib.select_error);
    return lib.selected;
  } catch (const std::exception& e) {
    return fail(-1, e.what());
  }
}
