// Codegen of every operator on every scalar type: compiled code must agree
// with the reference interpreter on edge values (bit for bit, except a few
// ulp for transcendental functions, which run through SIMD math libraries).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "ir/parser.h"

#include "codegen/codegen.h"
#include "compiler/passes.h"
#include "ir/builder.h"
#include "ir/interpreter.h"
#include "runtime/artifact.h"
#include "runtime/kernel.h"

namespace ember {
namespace {

// Compiles and loads `fn` as the runtime does (object code, then the loader);
// the kernels stay loaded for the whole test run.
codegen::Entry compile(const ir::Function& fn, const codegen::Layout& layout) {
  static std::vector<std::shared_ptr<runtime::Kernel>> loaded;
  auto kernel = runtime::prepare({fn, layout, {}, std::nullopt});
  codegen::ObjectCode code = codegen::compile_object(kernel->optimized, layout, {}, "t");
  runtime::attach_code(*kernel, "t", code.elf, "");
  loaded.push_back(kernel);
  return kernel->entry;
}

using ir::Literal;
using ir::Op;
using ir::Scalar;

constexpr Scalar kScalars[] = {Scalar::Bool, Scalar::I8,  Scalar::I16, Scalar::I32,
                               Scalar::I64,  Scalar::U8,  Scalar::U16, Scalar::U32,
                               Scalar::U64,  Scalar::F32, Scalar::F64};

int size_of(Scalar s) { return ir::bits_of(s) / 8; }

Literal int_lit(int64_t v) {
  Literal l;
  l.i = v;
  return l;
}

Literal float_lit(double v) {
  Literal l;
  l.f = v;
  return l;
}

// Edge values of a type, normalized to it.
std::vector<Literal> edge_values(Scalar s) {
  std::vector<Literal> out;
  if (ir::is_float(s)) {
    double inf = std::numeric_limits<double>::infinity();
    for (double v : {0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 2.5, 3.0, -7.5, 1e-310, 1e-40, 3e38, 1e300,
                     -1e300, 1e-7, 0.1, inf, -inf, std::nan("")})
      out.push_back(ir::normalize(float_lit(v), {s}));
  } else {
    for (int64_t v : {0LL, 1LL, -1LL, 2LL, 3LL, 7LL, -7LL, 8LL, 63LL, 64LL, 100LL, -128LL, 127LL,
                      255LL, 32767LL, -32768LL, 65535LL, 2147483647LL, -2147483647LL - 1,
                      9223372036854775807LL, -9223372036854775807LL - 1})
      out.push_back(ir::normalize(int_lit(v), {s}));
  }
  return out;
}

void store(Scalar s, Literal v, char* p) {
  if (s == Scalar::F32) {
    float f = static_cast<float>(v.f);
    std::memcpy(p, &f, 4);
  } else if (s == Scalar::F64) {
    std::memcpy(p, &v.f, 8);
  } else {
    std::memcpy(p, &v.i, size_of(s));  // little-endian: the low bytes
  }
}

Literal load(Scalar s, const char* p) {
  Literal v;
  if (s == Scalar::F32) {
    float f;
    std::memcpy(&f, p, 4);
    v.f = f;
  } else if (s == Scalar::F64) {
    std::memcpy(&v.f, p, 8);
  } else {
    std::memcpy(&v.i, p, size_of(s));
    v = ir::normalize(v, {s});  // sign-extends narrow signed values
  }
  return v;
}

bool transcendental(Op op) {
  switch (op) {
    case Op::Sqrt: case Op::Floor: case Op::Ceil: case Op::Trunc: case Op::Rint: case Op::Abs:
    case Op::Neg: case Op::Not: case Op::Invert: case Op::IsNan: case Op::IsInf:
    case Op::IsFinite: case Op::SignBit: return false;
    default: return ir::is_unary(op) || op == Op::Pow || op == Op::Atan2 || op == Op::Hypot;
  }
}

// Distance in units in the last place between two finite floats of type s.
int64_t ulps(Scalar s, double a, double b) {
  if (s == Scalar::F32) {
    int32_t ia, ib;
    float fa = static_cast<float>(a), fb = static_cast<float>(b);
    std::memcpy(&ia, &fa, 4);
    std::memcpy(&ib, &fb, 4);
    if (ia < 0) ia = INT32_MIN - ia;
    if (ib < 0) ib = INT32_MIN - ib;
    return std::llabs(static_cast<int64_t>(ia) - ib);
  }
  int64_t ia, ib;
  std::memcpy(&ia, &a, 8);
  std::memcpy(&ib, &b, 8);
  if (ia < 0) ia = INT64_MIN - ia;
  if (ib < 0) ib = INT64_MIN - ib;
  return ia > ib ? ia - ib : ib - ia;
}

::testing::AssertionResult same(Scalar s, Op op, Literal want, Literal got) {
  if (!ir::is_float(s)) {
    if (want.i == got.i) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "want " << want.i << " got " << got.i;
  }
  if (std::isnan(want.f) && std::isnan(got.f)) return ::testing::AssertionSuccess();
  if (std::memcmp(&want.f, &got.f, 8) == 0) return ::testing::AssertionSuccess();
  bool close = std::isfinite(want.f) && std::isfinite(got.f) && ulps(s, want.f, got.f) <= 4;
  if (transcendental(op) && close) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want " << want.f << " got " << got.f;
}

// Builds f(params...) = op(params...), or nothing when the types are invalid.
std::optional<ir::Function> build(Op op, Scalar s) {
  ir::FunctionBuilder b(ir::op_name(op), "test.py", {1, 1});
  ir::ExprPtr x = b.add_param("x", {s});
  try {
    if (ir::is_unary(op)) {
      b.ret(ir::make_unary(op, x), {});
    } else {
      ir::ExprPtr y = b.add_param("y", {s});
      b.ret(ir::make_binary(op, x, y), {});
    }
  } catch (const ir::CompileError&) {
    return std::nullopt;
  }
  return compiler::promote(b.finish());
}

// Compiles fn, runs it over every combination of edge values and compares
// with the interpreter.
void check_op(Op op, Scalar s) {
  std::optional<ir::Function> fn = build(op, s);
  if (!fn) return;
  size_t nargs = fn->params.size();
  std::vector<Literal> values = edge_values(s);
  std::vector<std::vector<Literal>> cases;
  for (const Literal& a : values) {
    if (nargs == 1) cases.push_back({a});
    else
      for (const Literal& b : values) cases.push_back({a, b});
  }
  codegen::Entry entry =
      compile(*fn, codegen::Layout{std::vector<bool>(nargs, false)});
  Scalar r = fn->result.scalar;
  int64_t n = static_cast<int64_t>(cases.size());
  std::vector<std::vector<char>> in(nargs, std::vector<char>(n * size_of(s)));
  for (int64_t k = 0; k < n; ++k)
    for (size_t i = 0; i < nargs; ++i) store(s, cases[k][i], in[i].data() + k * size_of(s));
  std::vector<char> out(n * size_of(r));
  std::vector<void*> ptrs;
  for (auto& buf : in) ptrs.push_back(buf.data());
  ptrs.push_back(out.data());
  entry.contig(ptrs.data(), n);
  for (int64_t k = 0; k < n; ++k) {
    Literal want = ir::interpret(*fn, cases[k]);
    std::string where = std::string(ir::op_name(op)) + " on " + std::string(ir::short_name(s)) +
                        " case " + std::to_string(k);
    EXPECT_TRUE(same(r, op, want, load(r, out.data() + k * size_of(r)))) << where;
  }
}

class EveryOp : public ::testing::TestWithParam<Scalar> {};

TEST_P(EveryOp, UnaryMatchesInterpreter) {
#define X(name, text) check_op(Op::name, GetParam());
  EMBER_UNARY_OPS(X)
#undef X
}

TEST_P(EveryOp, BinaryMatchesInterpreter) {
#define X(name, text) check_op(Op::name, GetParam());
  EMBER_BINARY_OPS(X)
#undef X
}

INSTANTIATE_TEST_SUITE_P(Codegen, EveryOp, ::testing::ValuesIn(kScalars),
                         [](const auto& info) { return std::string(ir::short_name(info.param)); });

// Casts between every pair of types, on values each conversion defines.
TEST(Codegen, CastsMatchInterpreter) {
  for (Scalar from : kScalars)
    for (Scalar to : kScalars) {
      ir::FunctionBuilder b("cast", "test.py", {1, 1});
      b.ret(ir::make_cast(b.add_param("x", {from}), {to}), {});
      ir::Function fn = compiler::promote(b.finish());
      codegen::Entry entry = compile(fn, codegen::Layout{{false}});
      for (Literal v : edge_values(from)) {
        char in[8] = {}, out[8] = {};
        store(from, v, in);
        void* ptrs[] = {in, out};
        entry.contig(ptrs, 1);
        EXPECT_TRUE(same(to, Op::Cast, ir::interpret(fn, {v}), load(to, out)))
            << ir::short_name(from) << " -> " << ir::short_name(to);
      }
    }
}

// Scalar-layout parameters are read once and broadcast over the loop.
TEST(Codegen, ScalarLayoutBroadcasts) {
  ir::FunctionBuilder b("axpy", "test.py", {1, 1});
  ir::ExprPtr a = b.add_param("a", {Scalar::F64});
  ir::ExprPtr x = b.add_param("x", {Scalar::F64});
  b.ret(ir::make_binary(Op::Mul, a, x), {});
  ir::Function fn = compiler::promote(b.finish());
  codegen::Entry entry = compile(fn, codegen::Layout{{true, false}});
  double alpha = 3.0, xs[37], out[37];
  for (int i = 0; i < 37; ++i) xs[i] = i;
  void* ptrs[] = {&alpha, xs, out};
  entry.contig(ptrs, 37);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(out[i], 3.0 * i);
}

TEST(Codegen, InspectionTexts) {
  ir::FunctionBuilder b("twice", "test.py", {1, 1});
  b.ret(ir::make_binary(Op::Mul, b.add_param("x", {Scalar::F32}), ir::make_float(2.0, {Scalar::F32})),
        {});
  ir::Function fn = compiler::promote(b.finish());
  std::string llvm = codegen::llvm_ir(fn, codegen::Layout{{false}}, {});
  EXPECT_NE(llvm.find("define"), std::string::npos);
  EXPECT_NE(llvm.find("fmul"), std::string::npos);
  std::string assembly = codegen::assembly(fn, codegen::Layout{{false}}, {});
  EXPECT_NE(assembly.find("twice_contig"), std::string::npos);
  EXPECT_FALSE(codegen::host_cpu().empty());
}

}  // namespace
// Threads compiling and loading at once (the JIT's concurrent path; run
// under ThreadSanitizer by tools/sanitize): each result right.
TEST(Codegen, CompilesAndLoadsFromManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &wrong] {
      for (int round = 0; round < 5; ++round) {
        double k = t * 10 + round;
        ir::Function fn = compiler::promote(ir::parse(
            "func f(x: f64) -> f64 {\n  return add(mul(x, " + std::to_string(k) +
            ":f64), 1.0:f64)\n}\n"));
        codegen::Layout layout{{false}};
        auto kernel = runtime::prepare({fn, layout, {}, std::nullopt});
        codegen::ObjectCode code = codegen::compile_object(kernel->optimized, layout, {}, "c");
        runtime::attach_code(*kernel, "c", code.elf, "");
        double in[5] = {0, 1, 2, 3, 4}, out[5];
        void* ptrs[2] = {in, out};
        kernel->entry.contig(ptrs, 5);
        for (int i = 0; i < 5; ++i) wrong[t] += out[i] != in[i] * k + 1.0;
      }
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

}  // namespace ember
