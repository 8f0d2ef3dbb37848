// Scalar semantics (eval) and the reference interpreter, checked against NumPy 2.
//
// Expected values come from NumPy 2.4 on x86-64 (ufunc loops on arrays), or from
// the C library where eval is defined as the libm call.
#include <gtest/gtest.h>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/eval.h"
#include "ir/interpreter.h"

namespace ember::ir {
namespace {

using S = Scalar;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Literal I(int64_t v) { return Literal{v, 0.0}; }
Literal U(uint64_t v) { return I(static_cast<int64_t>(v)); }
Literal B(bool v) { return I(v); }
Literal F(double v) { return Literal{0, v}; }
Literal F32(double v) { return F(static_cast<float>(v)); }

// An integer of any width and signedness, as the two's complement bits a Literal holds.
struct Int {
  template <std::integral T>
  Int(T v) : bits(static_cast<int64_t>(v)) {}
  int64_t bits;
};

std::string show(Scalar t, Literal v) {
  if (!is_float(t)) return std::to_string(v.i);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v.f);
  return buf;
}

// Equality as values of `t`: NaN matches NaN, -0.0 differs from 0.0, unused fields are 0.
::testing::AssertionResult same(Scalar t, Literal want, Literal got) {
  bool ok = want == got && (!is_float(t) || std::signbit(want.f) == std::signbit(got.f));
  if (is_float(t) && std::isnan(want.f)) ok = std::isnan(got.f) && got.i == 0;
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want " << show(t, want) << ", got " << show(t, got);
}

// Hides a value from the optimizer: GCC folds libm calls on constants with MPFR (correctly
// rounded), which glibc's float functions are not, so expected values must be computed at run time.
template <class T>
T opaque(T x) {
  volatile T v = x;
  return v;
}

Scalar result_scalar(Op op, Scalar t) {
  bool to_bool = is_comparison(op) || op == Op::Not || op == Op::IsNan || op == Op::IsInf ||
                 op == Op::IsFinite || op == Op::SignBit;
  return to_bool ? S::Bool : t;
}

// ---------------------------------------------------------------------------------------------
// Binary operators

struct BinaryCase {
  Op op;
  Scalar t;
  Literal a, b, want;
};

// clang-format off
const BinaryCase kBinary[] = {
    // Integers wrap; bool add is `or`, bool mul is `and`.
    {Op::Add, S::I8, I(127), I(1), I(-128)},
    {Op::Add, S::U8, I(255), I(1), I(0)},
    {Op::Sub, S::U8, I(0), I(1), I(255)},
    {Op::Sub, S::I32, I(INT32_MIN), I(1), I(INT32_MAX)},
    {Op::Mul, S::I16, I(300), I(300), I(24464)},
    {Op::Mul, S::U16, I(65535), I(65535), I(1)},  // overflows int after C++ promotion
    {Op::Mul, S::I64, I(INT64_MIN), I(-1), I(INT64_MIN)},
    {Op::Add, S::U64, U(UINT64_MAX), I(1), I(0)},
    {Op::Mul, S::U64, U(1ull << 63), I(2), I(0)},
    {Op::Add, S::Bool, B(true), B(true), B(true)},
    {Op::Add, S::Bool, B(false), B(false), B(false)},
    {Op::Mul, S::Bool, B(true), B(false), B(false)},
    {Op::Mul, S::Bool, B(true), B(true), B(true)},
    // IEEE floats.
    {Op::Add, S::F64, F(0.1), F(0.2), F(0.30000000000000004)},
    {Op::Add, S::F64, F(-0.0), F(-0.0), F(-0.0)},
    {Op::Add, S::F64, F(-0.0), F(0.0), F(0.0)},
    {Op::Add, S::F64, F(kInf), F(-kInf), F(kNaN)},
    {Op::Mul, S::F64, F(1e308), F(10), F(kInf)},
    {Op::Mul, S::F64, F(-0.0), F(5), F(-0.0)},
    {Op::Div, S::F64, F(1), F(0.0), F(kInf)},
    {Op::Div, S::F64, F(1), F(-0.0), F(-kInf)},
    {Op::Div, S::F64, F(0.0), F(0.0), F(kNaN)},
    {Op::Div, S::F64, F(5e-324), F(2), F(0.0)},
    // float32 results are rounded to float.
    {Op::Add, S::F32, F(16777216), F(1), F(16777216)},
    {Op::Mul, S::F32, F32(0.1), F(3), F(0.30000001192092896)},
    {Op::Div, S::F32, F(1), F(3), F(0.3333333432674408)},
    {Op::Mul, S::F32, F32(1e38), F(10), F(kInf)},
    {Op::Div, S::F32, F32(1.401298464324817e-45), F(2), F(0.0)},
    {Op::Sub, S::F32, F(1), F32(1e-8), F(1)},
    // pow: floats through libm; integers by wrapping repeated squaring (more below).
    {Op::Pow, S::F64, F(2), F(0.5), F(1.4142135623730951)},
    {Op::Pow, S::F64, F(-8), F(1.0 / 3), F(kNaN)},
    {Op::Pow, S::F64, F(0.0), F(-1), F(kInf)},
    {Op::Pow, S::F64, F(-0.0), F(-1), F(-kInf)},
    {Op::Pow, S::F64, F(kNaN), F(0.0), F(1)},
    {Op::Pow, S::F64, F(1), F(kNaN), F(1)},
    {Op::Pow, S::F64, F(-1), F(kInf), F(1)},
    {Op::Pow, S::F32, F(10), F(-1), F(0.10000000149011612)},
    // NumPy raises for a negative integer exponent; ember defines the truncated value.
    {Op::Pow, S::I32, I(2), I(-1), I(0)},
    {Op::Pow, S::I32, I(0), I(-1), I(0)},
    {Op::Pow, S::I32, I(1), I(-5), I(1)},
    {Op::Pow, S::I8, I(-1), I(-3), I(-1)},
    {Op::Pow, S::I8, I(-1), I(-2), I(1)},
    {Op::Pow, S::I64, I(-1), I(INT64_MIN), I(1)},
    {Op::Pow, S::I64, I(-2), I(-1), I(0)},
    // Bitwise.
    {Op::BitAnd, S::I8, I(-1), I(0x0f), I(0x0f)},
    {Op::BitOr, S::U8, I(0xf0), I(0x0f), I(0xff)},
    {Op::BitXor, S::I64, I(-1), I(INT64_MAX), I(INT64_MIN)},
    {Op::BitXor, S::U64, U(UINT64_MAX), I(1), U(UINT64_MAX - 1)},
    {Op::BitXor, S::Bool, B(true), B(true), B(false)},
    {Op::BitOr, S::Bool, B(false), B(true), B(true)},
    {Op::BitAnd, S::Bool, B(true), B(false), B(false)},
    // min/max are Python's builtins: the first operand unless the second is strictly beyond.
    {Op::Min, S::F64, F(kNaN), F(1), F(kNaN)},
    {Op::Min, S::F64, F(1), F(kNaN), F(1)},
    {Op::Max, S::F64, F(kNaN), F(1), F(kNaN)},
    {Op::Max, S::F64, F(1), F(kNaN), F(1)},
    {Op::Min, S::F64, F(-0.0), F(0.0), F(-0.0)},
    {Op::Min, S::F64, F(0.0), F(-0.0), F(0.0)},
    {Op::Max, S::F64, F(-0.0), F(0.0), F(-0.0)},
    {Op::Max, S::F64, F(0.0), F(-0.0), F(0.0)},
    {Op::Min, S::F32, F(-kInf), F(2), F(-kInf)},
    {Op::Min, S::U64, U(UINT64_MAX), I(0), I(0)},
    {Op::Max, S::I8, I(-128), I(127), I(127)},
    {Op::Min, S::Bool, B(true), B(false), B(false)},
    // minimum/maximum propagate NaN; a -0.0/0.0 tie gives the second operand (NumPy 2.4).
    {Op::Minimum, S::F64, F(kNaN), F(1), F(kNaN)},
    {Op::Minimum, S::F64, F(1), F(kNaN), F(kNaN)},
    {Op::Maximum, S::F64, F(kNaN), F(1), F(kNaN)},
    {Op::Maximum, S::F64, F(1), F(kNaN), F(kNaN)},
    {Op::Minimum, S::F32, F(-kInf), F(kNaN), F(kNaN)},
    {Op::Minimum, S::F64, F(-0.0), F(0.0), F(0.0)},
    {Op::Minimum, S::F64, F(0.0), F(-0.0), F(-0.0)},
    {Op::Maximum, S::F64, F(-0.0), F(0.0), F(0.0)},
    {Op::Maximum, S::F64, F(0.0), F(-0.0), F(-0.0)},
    {Op::Minimum, S::F64, F(-kInf), F(1), F(-kInf)},
    {Op::Maximum, S::F32, F(-1), F(-2), F(-1)},
    {Op::Maximum, S::U64, U(UINT64_MAX), I(1), U(UINT64_MAX)},
    {Op::Minimum, S::I32, I(-5), I(3), I(-5)},
    {Op::Maximum, S::Bool, B(false), B(true), B(true)},
    // atan2, hypot, copysign, fmod on floats.
    {Op::Atan2, S::F64, F(0.0), F(-0.0), F(3.141592653589793)},
    {Op::Atan2, S::F64, F(-0.0), F(-0.0), F(-3.141592653589793)},
    {Op::Atan2, S::F64, F(1), F(0.0), F(1.5707963267948966)},
    {Op::Atan2, S::F32, F(1), F(1), F(0.7853981852531433)},
    {Op::Hypot, S::F64, F(3), F(4), F(5)},
    {Op::Hypot, S::F64, F(kInf), F(kNaN), F(kInf)},
    {Op::Hypot, S::F64, F(1e300), F(1e300), F(1.4142135623730952e300)},
    {Op::Hypot, S::F32, F32(3e38), F32(3e38), F(kInf)},
    {Op::CopySign, S::F64, F(1), F(-0.0), F(-1)},
    {Op::CopySign, S::F64, F(-kInf), F(0.0), F(kInf)},
    {Op::Fmod, S::F64, F(-7), F(2), F(-1)},
    {Op::Fmod, S::F64, F(7), F(-2), F(1)},
    {Op::Fmod, S::F64, F(1), F(0.0), F(kNaN)},
    {Op::Fmod, S::F64, F(kInf), F(1), F(kNaN)},
    {Op::Fmod, S::F64, F(1), F(kInf), F(1)},
    {Op::Fmod, S::F64, F(-0.0), F(1), F(-0.0)},
    // Comparisons: IEEE for floats, unsigned compares unsigned.
    {Op::Lt, S::F64, F(kNaN), F(1), B(false)},
    {Op::Ge, S::F64, F(kNaN), F(kNaN), B(false)},
    {Op::Eq, S::F64, F(kNaN), F(kNaN), B(false)},
    {Op::Ne, S::F64, F(kNaN), F(kNaN), B(true)},
    {Op::Eq, S::F64, F(-0.0), F(0.0), B(true)},
    {Op::Le, S::F64, F(-kInf), F(-kInf), B(true)},
    {Op::Eq, S::F32, F32(0.1), F32(0.1), B(true)},
    {Op::Gt, S::U64, U(UINT64_MAX), I(0), B(true)},
    {Op::Lt, S::I64, I(-1), I(0), B(true)},
    {Op::Le, S::U8, I(255), I(0), B(false)},
    {Op::Lt, S::Bool, B(false), B(true), B(true)},
    {Op::Ne, S::I32, I(INT32_MIN), I(INT32_MAX), B(true)},
};
// clang-format on

TEST(Eval, BinaryOperators) {
  for (const BinaryCase& c : kBinary)
    EXPECT_TRUE(same(result_scalar(c.op, c.t), c.want, eval_binary(c.op, c.t, c.a, c.b)))
        << op_name(c.op) << " " << short_name(c.t) << " (" << show(c.t, c.a) << ", "
        << show(c.t, c.b) << ")";
}

// floor_divide and remainder on every pair of these values (NumPy's npy_divmod).
TEST(Eval, FloatFloorDivAndModMatchNumPy) {
  const double v[12] = {0.0, -0.0, 1.0, -1.0, 5.5, -2.5, 0.1, 1e30, -1e-30, kInf, -kInf, kNaN};
  struct Table {
    Op op;
    Scalar t;
    double want[12][12];  // want[i][j] = op(v[i], v[j])
  };
  // clang-format off
  static const Table tables[] = {
    {Op::FloorDiv, S::F64, {
        {kNaN, kNaN, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, -0.0, kNaN},
        {kNaN, kNaN, -0.0, 0.0, -0.0, 0.0, -0.0, -0.0, 0.0, -0.0, 0.0, kNaN},
        {kInf, -kInf, 1.0, -1.0, 0.0, -1.0, 9.0, 0.0, -9.999999999999999e+29, 0.0, -1.0, kNaN},
        {-kInf, kInf, -1.0, 1.0, -1.0, 0.0, -10.0, -1.0, 9.999999999999999e+29, -1.0, 0.0, kNaN},
        {kInf, -kInf, 5.0, -6.0, 1.0, -3.0, 54.0, 0.0, -5.499999999999999e+30, 0.0, -1.0, kNaN},
        {-kInf, kInf, -3.0, 2.0, -1.0, 1.0, -25.0, -1.0, 2.5e+30, -1.0, 0.0, kNaN},
        {kInf, -kInf, 0.0, -1.0, 0.0, -1.0, 1.0, 0.0, -1e+29, 0.0, -1.0, kNaN},
        {kInf, -kInf, 1e+30, -1e+30, 1.8181818181818183e+29, -4.0000000000000004e+29, 1e+31, 1.0,
         -1e+60, 0.0, -1.0, kNaN},
        {-kInf, kInf, -1.0, 0.0, -1.0, 0.0, -1.0, -1.0, 1.0, -1.0, 0.0, kNaN},
        {kInf, -kInf, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
        {-kInf, kInf, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
        {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
    }},
    {Op::Mod, S::F64, {
        {kNaN, kNaN, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, -0.0, kNaN},
        {kNaN, kNaN, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, -0.0, kNaN},
        {kNaN, kNaN, 0.0, -0.0, 1.0, -1.5, 0.09999999999999995, 1.0, -9.784059723363425e-31, 1.0,
         -kInf, kNaN},
        {kNaN, kNaN, 0.0, -0.0, 4.5, -1.0, 5.551115123125783e-17, 1e+30, -2.1594027663657615e-32,
         kInf, -1.0, kNaN},
        {kNaN, kNaN, 0.5, -0.5, 0.0, -2.0, 0.0999999999999997, 5.5, -8.812328478498832e-31, 5.5,
         -kInf, kNaN},
        {kNaN, kNaN, 0.5, -0.5, 3.0, -0.0, 1.3877787807814457e-16, 1e+30, -5.398506915914404e-32,
         kInf, -2.5, kNaN},
        {kNaN, kNaN, 0.1, -0.9, 0.1, -2.4, 0.0, 0.1, -8.156010891400358e-31, 0.1, -kInf, kNaN},
        {kNaN, kNaN, 0.0, -0.0, 1.5, -1.5, 0.07495648791101958, 0.0, -8.350102741677975e-32, 1e+30,
         -kInf, kNaN},
        {kNaN, kNaN, 1.0, -1e-30, 5.5, -1e-30, 0.1, 1e+30, -0.0, kInf, -1e-30, kNaN},
        {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
        {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
        {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
    }},
    {Op::FloorDiv, S::F32, {
        {kNaN, kNaN, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, -0.0, kNaN},
        {kNaN, kNaN, -0.0, 0.0, -0.0, 0.0, -0.0, -0.0, 0.0, -0.0, 0.0, kNaN},
        {kInf, -kInf, 1.0, -1.0, 0.0, -1.0, 9.0, 0.0, -1.0000000150474662e+30, 0.0, -1.0, kNaN},
        {-kInf, kInf, -1.0, 1.0, -1.0, 0.0, -10.0, -1.0, 1.0000000150474662e+30, -1.0, 0.0, kNaN},
        {kInf, -kInf, 5.0, -6.0, 1.0, -3.0, 54.0, 0.0, -5.500000158318928e+30, 0.0, -1.0, kNaN},
        {-kInf, kInf, -3.0, 2.0, -1.0, 1.0, -25.0, -1.0, 2.4999999620608018e+30, -1.0, 0.0, kNaN},
        {kInf, -kInf, 0.0, -1.0, 0.0, -1.0, 1.0, 0.0, -1.0000000150474662e+29, 0.0, -1.0, kNaN},
        {kInf, -kInf, 1.0000000150474662e+30, -1.0000000150474662e+30, 1.8181819314020565e+29,
         -4.000000060189865e+29, 9.999999848243207e+30, 1.0, -kInf, 0.0, -1.0, kNaN},
        {-kInf, kInf, -1.0, 0.0, -1.0, 0.0, -1.0, -1.0, 1.0, -1.0, 0.0, kNaN},
        {kInf, -kInf, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
        {-kInf, kInf, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
        {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
    }},
    {Op::Mod, S::F32, {
        {kNaN, kNaN, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, -0.0, kNaN},
        {kNaN, kNaN, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, -0.0, kNaN},
        {kNaN, kNaN, 0.0, -0.0, 1.0, -1.5, 0.09999998658895493, 1.0, -2.7278992102922333e-31, 1.0,
         -kInf, kNaN},
        {kNaN, kNaN, 0.0, -0.0, 4.5, -1.0, 1.4901161193847656e-08, 1.0000000150474662e+30,
         -7.272100821418535e-31, kInf, -1.0, kNaN},
        {kNaN, kNaN, 0.5, -0.5, 0.0, -2.0, 0.09999991953372955, 5.5, -5.0034456248965145e-31, 5.5,
         -kInf, kNaN},
        {kNaN, kNaN, 0.5, -0.5, 3.0, -0.0, 3.725290298461914e-08, 1.0000000150474662e+30,
         -3.1802520059801853e-31, kInf, -2.5, kNaN},
        {kNaN, kNaN, 0.10000000149011612, -0.8999999761581421, 0.10000000149011612,
         -2.4000000953674316, 0.0, 0.10000000149011612, -4.701345457526148e-31, 0.10000000149011612,
         -kInf, kNaN},
        {kNaN, kNaN, 0.0, -0.0, 4.0, -0.0, 0.0493038073182106, 0.0, -1.833184380502838e-31,
         1.0000000150474662e+30, -kInf, kNaN},
        {kNaN, kNaN, 1.0, -1.0000000031710769e-30, 5.5, -1.0000000031710769e-30,
         0.10000000149011612, 1.0000000150474662e+30, -0.0, kInf, -1.0000000031710769e-30, kNaN},
        {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
        {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
        {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN},
    }},
  };
  // clang-format on
  for (const Table& tab : tables)
    for (int i = 0; i < 12; ++i)
      for (int j = 0; j < 12; ++j) {
        Literal a = eval_cast(F(v[i]), S::F64, tab.t), b = eval_cast(F(v[j]), S::F64, tab.t);
        EXPECT_TRUE(same(tab.t, F(tab.want[i][j]), eval_binary(tab.op, tab.t, a, b)))
            << op_name(tab.op) << " " << short_name(tab.t) << " (" << v[i] << ", " << v[j] << ")";
      }
}

struct DivModCase {
  Scalar t;
  Int a, b, floordiv, mod, fmod;
};

// clang-format off
const DivModCase kIntDivMod[] = {
    {S::I8, 7, 2, 3, 1, 1},
    {S::I8, -7, 2, -4, 1, -1},
    {S::I8, 7, -2, -4, -1, 1},
    {S::I8, -7, -2, 3, -1, -1},
    {S::I8, 6, -3, -2, 0, 0},
    {S::I8, 7, 0, 0, 0, 0},
    {S::I8, -7, 0, 0, 0, 0},
    {S::I8, 0, 0, 0, 0, 0},
    {S::I8, INT8_MIN, -1, INT8_MIN, 0, 0},
    {S::I8, INT8_MIN, 1, INT8_MIN, 0, 0},
    {S::I8, INT8_MIN, 0, 0, 0, 0},
    {S::I8, INT8_MAX, -1, -127, 0, 0},
    {S::I8, INT8_MIN, INT8_MAX, -2, 126, -1},
    {S::I8, INT8_MAX, INT8_MIN, -1, -1, INT8_MAX},
    {S::I8, INT8_MIN, 2, -64, 0, 0},
    {S::I8, -1, INT8_MIN, 0, -1, -1},
    {S::I8, 1, INT8_MIN, -1, -127, 1},
    {S::I32, 7, 2, 3, 1, 1},
    {S::I32, -7, 2, -4, 1, -1},
    {S::I32, 7, -2, -4, -1, 1},
    {S::I32, -7, -2, 3, -1, -1},
    {S::I32, 6, -3, -2, 0, 0},
    {S::I32, 7, 0, 0, 0, 0},
    {S::I32, -7, 0, 0, 0, 0},
    {S::I32, 0, 0, 0, 0, 0},
    {S::I32, INT32_MIN, -1, INT32_MIN, 0, 0},
    {S::I32, INT32_MIN, 1, INT32_MIN, 0, 0},
    {S::I32, INT32_MIN, 0, 0, 0, 0},
    {S::I32, INT32_MAX, -1, -2147483647, 0, 0},
    {S::I32, INT32_MIN, INT32_MAX, -2, 2147483646, -1},
    {S::I32, INT32_MAX, INT32_MIN, -1, -1, INT32_MAX},
    {S::I32, INT32_MIN, 2, -1073741824, 0, 0},
    {S::I32, -1, INT32_MIN, 0, -1, -1},
    {S::I32, 1, INT32_MIN, -1, -2147483647, 1},
    {S::I64, 7, 2, 3, 1, 1},
    {S::I64, -7, 2, -4, 1, -1},
    {S::I64, 7, -2, -4, -1, 1},
    {S::I64, -7, -2, 3, -1, -1},
    {S::I64, 6, -3, -2, 0, 0},
    {S::I64, 7, 0, 0, 0, 0},
    {S::I64, -7, 0, 0, 0, 0},
    {S::I64, 0, 0, 0, 0, 0},
    {S::I64, INT64_MIN, -1, INT64_MIN, 0, 0},
    {S::I64, INT64_MIN, 1, INT64_MIN, 0, 0},
    {S::I64, INT64_MIN, 0, 0, 0, 0},
    {S::I64, INT64_MAX, -1, -9223372036854775807, 0, 0},
    {S::I64, INT64_MIN, INT64_MAX, -2, 9223372036854775806, -1},
    {S::I64, INT64_MAX, INT64_MIN, -1, -1, INT64_MAX},
    {S::I64, INT64_MIN, 2, -4611686018427387904, 0, 0},
    {S::I64, -1, INT64_MIN, 0, -1, -1},
    {S::I64, 1, INT64_MIN, -1, -9223372036854775807, 1},
    {S::U8, 7, 2, 3, 1, 1},
    {S::U8, 7, 0, 0, 0, 0},
    {S::U8, 0, 0, 0, 0, 0},
    {S::U8, UINT8_MAX, 2, 127, 1, 1},
    {S::U8, UINT8_MAX, UINT8_MAX, 1, 0, 0},
    {S::U8, 1, UINT8_MAX, 0, 1, 1},
    {S::U8, UINT8_MAX, 1, UINT8_MAX, 0, 0},
    {S::U8, 254, UINT8_MAX, 0, 254, 254},
    {S::U64, 7u, 2u, 3u, 1u, 1u},
    {S::U64, 7u, 0u, 0u, 0u, 0u},
    {S::U64, 0u, 0u, 0u, 0u, 0u},
    {S::U64, UINT64_MAX, 2u, 9223372036854775807u, 1u, 1u},
    {S::U64, UINT64_MAX, UINT64_MAX, 1u, 0u, 0u},
    {S::U64, 1u, UINT64_MAX, 0u, 1u, 1u},
    {S::U64, UINT64_MAX, 1u, UINT64_MAX, 0u, 0u},
    {S::U64, 18446744073709551614u, UINT64_MAX, 0u, 18446744073709551614u, 18446744073709551614u},
};
// clang-format on

TEST(Eval, IntFloorDivModFmodMatchNumPy) {
  for (const DivModCase& c : kIntDivMod) {
    SCOPED_TRACE(std::string(short_name(c.t)) + " " + std::to_string(c.a.bits) + ", " +
                 std::to_string(c.b.bits));
    Literal a = I(c.a.bits), b = I(c.b.bits);
    EXPECT_TRUE(same(c.t, I(c.floordiv.bits), eval_binary(Op::FloorDiv, c.t, a, b)));
    EXPECT_TRUE(same(c.t, I(c.mod.bits), eval_binary(Op::Mod, c.t, a, b)));
    EXPECT_TRUE(same(c.t, I(c.fmod.bits), eval_binary(Op::Fmod, c.t, a, b)));
  }
}

struct ShiftCase {
  Scalar t;
  Int a, b, shl, shr;
};

// clang-format off
const ShiftCase kShifts[] = {
    {S::I8, 1, -1, 0, 0},
    {S::I8, 1, 0, 1, 1},
    {S::I8, 1, 1, 2, 0},
    {S::I8, 1, 7, INT8_MIN, 0},
    {S::I8, 1, 8, 0, 0},
    {S::I8, 1, 100, 0, 0},
    {S::I8, -5, -1, 0, -1},
    {S::I8, -5, 0, -5, -5},
    {S::I8, -5, 1, -10, -3},
    {S::I8, -5, 7, INT8_MIN, -1},
    {S::I8, -5, 8, 0, -1},
    {S::I8, -5, 100, 0, -1},
    {S::I8, INT8_MIN, -1, 0, -1},
    {S::I8, INT8_MIN, 0, INT8_MIN, INT8_MIN},
    {S::I8, INT8_MIN, 1, 0, -64},
    {S::I8, INT8_MIN, 7, 0, -1},
    {S::I8, INT8_MIN, 8, 0, -1},
    {S::I8, INT8_MIN, 100, 0, -1},
    {S::I64, 1, -1, 0, 0},
    {S::I64, 1, 0, 1, 1},
    {S::I64, 1, 1, 2, 0},
    {S::I64, 1, 63, INT64_MIN, 0},
    {S::I64, 1, 64, 0, 0},
    {S::I64, 1, 100, 0, 0},
    {S::I64, -5, -1, 0, -1},
    {S::I64, -5, 0, -5, -5},
    {S::I64, -5, 1, -10, -3},
    {S::I64, -5, 63, INT64_MIN, -1},
    {S::I64, -5, 64, 0, -1},
    {S::I64, -5, 100, 0, -1},
    {S::I64, INT64_MIN, -1, 0, -1},
    {S::I64, INT64_MIN, 0, INT64_MIN, INT64_MIN},
    {S::I64, INT64_MIN, 1, 0, -4611686018427387904},
    {S::I64, INT64_MIN, 63, 0, -1},
    {S::I64, INT64_MIN, 64, 0, -1},
    {S::I64, INT64_MIN, 100, 0, -1},
    {S::U8, 1, 0, 1, 1},
    {S::U8, 1, 1, 2, 0},
    {S::U8, 1, 7, 128, 0},
    {S::U8, 1, 8, 0, 0},
    {S::U8, 1, 100, 0, 0},
    {S::U8, UINT8_MAX, 0, UINT8_MAX, UINT8_MAX},
    {S::U8, UINT8_MAX, 1, 254, 127},
    {S::U8, UINT8_MAX, 7, 128, 1},
    {S::U8, UINT8_MAX, 8, 0, 0},
    {S::U8, UINT8_MAX, 100, 0, 0},
    {S::U64, 1u, 0u, 1u, 1u},
    {S::U64, 1u, 1u, 2u, 0u},
    {S::U64, 1u, 63u, 9223372036854775808u, 0u},
    {S::U64, 1u, 64u, 0u, 0u},
    {S::U64, 1u, 100u, 0u, 0u},
    {S::U64, UINT64_MAX, 0u, UINT64_MAX, UINT64_MAX},
    {S::U64, UINT64_MAX, 1u, 18446744073709551614u, 9223372036854775807u},
    {S::U64, UINT64_MAX, 63u, 9223372036854775808u, 1u},
    {S::U64, UINT64_MAX, 64u, 0u, 0u},
    {S::U64, UINT64_MAX, 100u, 0u, 0u},
};
// clang-format on

TEST(Eval, ShiftsMatchNumPy) {
  for (const ShiftCase& c : kShifts) {
    SCOPED_TRACE(std::string(short_name(c.t)) + " " + std::to_string(c.a.bits) + ", " +
                 std::to_string(c.b.bits));
    Literal a = I(c.a.bits), b = I(c.b.bits);
    EXPECT_TRUE(same(c.t, I(c.shl.bits), eval_binary(Op::Shl, c.t, a, b)));
    EXPECT_TRUE(same(c.t, I(c.shr.bits), eval_binary(Op::Shr, c.t, a, b)));
  }
}

struct PowCase {
  Scalar t;
  Int a, b, want;
};

// clang-format off
const PowCase kIntPow[] = {
    {S::I8, 2, 7, INT8_MIN},
    {S::I8, 2, 8, 0},
    {S::I8, 3, 5, -13},
    {S::I8, 0, 0, 1},
    {S::I8, 7, 0, 1},
    {S::I8, 0, 3, 0},
    {S::I8, 3, 40, 33},
    {S::I8, INT8_MAX, 2, 1},
    {S::I8, INT8_MAX, 3, INT8_MAX},
    {S::I8, -2, 7, INT8_MIN},
    {S::I8, -1, INT8_MAX, -1},
    {S::I8, INT8_MIN, 1, INT8_MIN},
    {S::I8, INT8_MIN, 2, 0},
    {S::I64, 2, 7, 128},
    {S::I64, 2, 8, 256},
    {S::I64, 3, 5, 243},
    {S::I64, 0, 0, 1},
    {S::I64, 7, 0, 1},
    {S::I64, 0, 3, 0},
    {S::I64, 3, 40, -6289078614652622815},
    {S::I64, INT64_MAX, 2, 1},
    {S::I64, INT64_MAX, 3, INT64_MAX},
    {S::I64, -2, 7, -128},
    {S::I64, -1, INT64_MAX, -1},
    {S::I64, INT64_MIN, 1, INT64_MIN},
    {S::I64, INT64_MIN, 2, 0},
    {S::U8, 2, 7, 128},
    {S::U8, 2, 8, 0},
    {S::U8, 3, 5, 243},
    {S::U8, 0, 0, 1},
    {S::U8, 7, 0, 1},
    {S::U8, 0, 3, 0},
    {S::U8, 3, 40, 33},
    {S::U8, UINT8_MAX, 2, 1},
    {S::U8, UINT8_MAX, 3, UINT8_MAX},
    {S::U64, 2u, 7u, 128u},
    {S::U64, 2u, 8u, 256u},
    {S::U64, 3u, 5u, 243u},
    {S::U64, 0u, 0u, 1u},
    {S::U64, 7u, 0u, 1u},
    {S::U64, 0u, 3u, 0u},
    {S::U64, 3u, 40u, 12157665459056928801u},
    {S::U64, UINT64_MAX, 2u, 1u},
    {S::U64, UINT64_MAX, 3u, UINT64_MAX},
};
// clang-format on

TEST(Eval, IntPowWrapsLikeNumPy) {
  for (const PowCase& c : kIntPow)
    EXPECT_TRUE(same(c.t, I(c.want.bits), eval_binary(Op::Pow, c.t, I(c.a.bits), I(c.b.bits))))
        << short_name(c.t) << " " << c.a.bits << " ** " << c.b.bits;
}

TEST(Eval, OperatorsOutsideTheStrictLevelThrow) {
  EXPECT_THROW(eval_binary(Op::Div, S::I32, I(1), I(2)), std::invalid_argument);
  EXPECT_THROW(eval_binary(Op::Shl, S::F64, F(1), F(2)), std::invalid_argument);
  EXPECT_THROW(eval_binary(Op::Atan2, S::I64, I(1), I(2)), std::invalid_argument);
  EXPECT_THROW(eval_binary(Op::Neg, S::F64, F(1), F(2)), std::invalid_argument);
  EXPECT_THROW(eval_unary(Op::Sqrt, S::I64, I(4)), std::invalid_argument);
  EXPECT_THROW(eval_unary(Op::Invert, S::F32, F(1)), std::invalid_argument);
  EXPECT_THROW(eval_unary(Op::Add, S::F64, F(1)), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Unary operators

struct UnaryCase {
  Op op;
  Scalar t;
  Literal x, want;
};

// clang-format off
const UnaryCase kUnary[] = {
    {Op::Neg, S::I8, I(-128), I(-128)},
    {Op::Neg, S::I64, I(INT64_MIN), I(INT64_MIN)},
    {Op::Neg, S::U8, I(1), I(255)},
    {Op::Neg, S::U64, I(1), U(UINT64_MAX)},
    {Op::Neg, S::F64, F(0.0), F(-0.0)},
    {Op::Neg, S::F32, F(-kInf), F(kInf)},
    {Op::Not, S::F64, F(kNaN), B(false)},  // NaN is truthy
    {Op::Not, S::F64, F(-0.0), B(true)},
    {Op::Not, S::I32, I(0), B(true)},
    {Op::Not, S::I32, I(5), B(false)},
    {Op::Not, S::U64, U(UINT64_MAX), B(false)},
    {Op::Not, S::Bool, B(true), B(false)},
    {Op::Invert, S::Bool, B(true), B(false)},
    {Op::Invert, S::Bool, B(false), B(true)},
    {Op::Invert, S::U8, I(5), I(250)},
    {Op::Invert, S::I8, I(0), I(-1)},
    {Op::Invert, S::I64, I(INT64_MIN), I(INT64_MAX)},
    {Op::Invert, S::U64, I(0), U(UINT64_MAX)},
    {Op::Abs, S::I8, I(-128), I(-128)},
    {Op::Abs, S::I32, I(-5), I(5)},
    {Op::Abs, S::I64, I(INT64_MIN), I(INT64_MIN)},
    {Op::Abs, S::U8, I(200), I(200)},
    {Op::Abs, S::U64, U(UINT64_MAX), U(UINT64_MAX)},
    {Op::Abs, S::Bool, B(true), B(true)},
    {Op::Abs, S::F64, F(-0.0), F(0.0)},
    {Op::Abs, S::F64, F(-kInf), F(kInf)},
    {Op::Abs, S::F32, F(-1.5), F(1.5)},
    // Rounding: identity on integers, half to even for rint.
    {Op::Floor, S::I64, I(INT64_MIN), I(INT64_MIN)},
    {Op::Ceil, S::U64, U(UINT64_MAX), U(UINT64_MAX)},
    {Op::Trunc, S::I8, I(-7), I(-7)},
    {Op::Rint, S::U16, I(65535), I(65535)},
    {Op::Floor, S::F64, F(-0.5), F(-1)},
    {Op::Floor, S::F64, F(-0.0), F(-0.0)},
    {Op::Ceil, S::F64, F(-0.5), F(-0.0)},
    {Op::Ceil, S::F64, F(kInf), F(kInf)},
    {Op::Trunc, S::F64, F(-1.7), F(-1)},
    {Op::Trunc, S::F64, F(kNaN), F(kNaN)},
    {Op::Rint, S::F64, F(0.5), F(0.0)},
    {Op::Rint, S::F64, F(1.5), F(2)},
    {Op::Rint, S::F64, F(2.5), F(2)},
    {Op::Rint, S::F64, F(-0.5), F(-0.0)},
    {Op::Rint, S::F64, F(-2.5), F(-2)},
    {Op::Rint, S::F64, F(4503599627370497.0), F(4503599627370497.0)},
    {Op::Rint, S::F32, F(2.5), F(2)},
    {Op::Rint, S::F32, F(3.5), F(4)},
    // Classification.
    {Op::IsNan, S::F64, F(kNaN), B(true)},
    {Op::IsNan, S::F32, F(kInf), B(false)},
    {Op::IsNan, S::I8, I(-1), B(false)},
    {Op::IsInf, S::F64, F(-kInf), B(true)},
    {Op::IsInf, S::F64, F(kNaN), B(false)},
    {Op::IsInf, S::I64, I(INT64_MAX), B(false)},
    {Op::IsFinite, S::F64, F(kNaN), B(false)},
    {Op::IsFinite, S::F32, F(-kInf), B(false)},
    {Op::IsFinite, S::F64, F(1.7976931348623157e308), B(true)},
    {Op::IsFinite, S::U64, U(UINT64_MAX), B(true)},
    {Op::SignBit, S::F64, F(-0.0), B(true)},
    {Op::SignBit, S::F64, F(0.0), B(false)},
    {Op::SignBit, S::F32, F(-kInf), B(true)},
    {Op::SignBit, S::I32, I(-1), B(true)},
    {Op::SignBit, S::I8, I(0), B(false)},
    {Op::SignBit, S::U64, U(UINT64_MAX), B(false)},
    {Op::SignBit, S::Bool, B(true), B(false)},
    // Edges of the math functions.
    {Op::Sqrt, S::F64, F(-1), F(kNaN)},
    {Op::Sqrt, S::F64, F(-0.0), F(-0.0)},
    {Op::Sqrt, S::F32, F(2), F(1.4142135381698608)},
    {Op::Cbrt, S::F64, F(-8), F(-2)},
    {Op::Log, S::F64, F(0.0), F(-kInf)},
    {Op::Log, S::F64, F(-1), F(kNaN)},
    {Op::Log2, S::F64, F(8), F(3)},
    {Op::Log10, S::F32, F(1000), F(3)},
    {Op::Log1p, S::F64, F(-1), F(-kInf)},
    {Op::Exp, S::F64, F(710), F(kInf)},
    {Op::Exp, S::F32, F(89), F(kInf)},
    {Op::Exp, S::F64, F(-kInf), F(0.0)},
    {Op::Exp2, S::F64, F(10), F(1024)},
    {Op::Expm1, S::F64, F(-0.0), F(-0.0)},
    {Op::Sin, S::F64, F(-0.0), F(-0.0)},
    {Op::Cos, S::F64, F(kInf), F(kNaN)},
    {Op::Tanh, S::F64, F(-kInf), F(-1)},
    {Op::Atanh, S::F64, F(1), F(kInf)},
    {Op::Acosh, S::F64, F(0.5), F(kNaN)},
    {Op::Asin, S::F64, F(2), F(kNaN)},
    {Op::Erf, S::F64, F(kInf), F(1)},
    {Op::Erfc, S::F64, F(kInf), F(0.0)},
    {Op::Erfc, S::F64, F(-kInf), F(2)},
};
// clang-format on

TEST(Eval, UnaryOperators) {
  for (const UnaryCase& c : kUnary)
    EXPECT_TRUE(same(result_scalar(c.op, c.t), c.want, eval_unary(c.op, c.t, c.x)))
        << op_name(c.op) << " " << short_name(c.t) << " " << show(c.t, c.x);
}

// eval is defined as the libm call: the double one for f64 and the float one (expf, ...) for
// f32, which is not always the double result rounded (the inputs near 0.125 below differ).
TEST(Eval, MathIsLibmInTheOperandPrecision) {
  struct Fn {
    Op op;
    double (*f64)(double);
    float (*f32)(float);
  };
  const Fn fns[] = {
      {Op::Sqrt, [](double x) { return std::sqrt(x); }, [](float x) { return std::sqrt(x); }},
      {Op::Cbrt, [](double x) { return std::cbrt(x); }, [](float x) { return std::cbrt(x); }},
      {Op::Exp, [](double x) { return std::exp(x); }, [](float x) { return std::exp(x); }},
      {Op::Exp2, [](double x) { return std::exp2(x); }, [](float x) { return std::exp2(x); }},
      {Op::Expm1, [](double x) { return std::expm1(x); }, [](float x) { return std::expm1(x); }},
      {Op::Log, [](double x) { return std::log(x); }, [](float x) { return std::log(x); }},
      {Op::Log2, [](double x) { return std::log2(x); }, [](float x) { return std::log2(x); }},
      {Op::Log10, [](double x) { return std::log10(x); }, [](float x) { return std::log10(x); }},
      {Op::Log1p, [](double x) { return std::log1p(x); }, [](float x) { return std::log1p(x); }},
      {Op::Sin, [](double x) { return std::sin(x); }, [](float x) { return std::sin(x); }},
      {Op::Cos, [](double x) { return std::cos(x); }, [](float x) { return std::cos(x); }},
      {Op::Tan, [](double x) { return std::tan(x); }, [](float x) { return std::tan(x); }},
      {Op::Asin, [](double x) { return std::asin(x); }, [](float x) { return std::asin(x); }},
      {Op::Acos, [](double x) { return std::acos(x); }, [](float x) { return std::acos(x); }},
      {Op::Atan, [](double x) { return std::atan(x); }, [](float x) { return std::atan(x); }},
      {Op::Sinh, [](double x) { return std::sinh(x); }, [](float x) { return std::sinh(x); }},
      {Op::Cosh, [](double x) { return std::cosh(x); }, [](float x) { return std::cosh(x); }},
      {Op::Tanh, [](double x) { return std::tanh(x); }, [](float x) { return std::tanh(x); }},
      {Op::Asinh, [](double x) { return std::asinh(x); }, [](float x) { return std::asinh(x); }},
      {Op::Acosh, [](double x) { return std::acosh(x); }, [](float x) { return std::acosh(x); }},
      {Op::Atanh, [](double x) { return std::atanh(x); }, [](float x) { return std::atanh(x); }},
      {Op::Erf, [](double x) { return std::erf(x); }, [](float x) { return std::erf(x); }},
      {Op::Erfc, [](double x) { return std::erfc(x); }, [](float x) { return std::erfc(x); }},
  };
  const float inputs[] = {0.0f,           -0.0f,          0.5f,           -0.75f,
                          1.0f,           2.0f,           7.25f,          100.0f,
                          1e-20f,         0x1.00046p-3f,  0x1.0000fcp-3f, 0x1.00134ep-3f,
                          0x1.0001dcp-3f, 0x1.01006ep-3f, 0x1.000268p-3f, 0x1p-3f};
  for (const Fn& fn : fns)
    for (float constant : inputs) {
      float x = opaque(constant);
      EXPECT_TRUE(same(S::F64, F(fn.f64(x)), eval_unary(fn.op, S::F64, F(x)))) << op_name(fn.op);
      EXPECT_TRUE(same(S::F32, F(fn.f32(x)), eval_unary(fn.op, S::F32, F(x))))
          << op_name(fn.op) << " f32 " << x;
    }
  // The same holds for pow, whose float32 result is not the rounded double one here.
  float x = opaque(0x1.00159ap-3f), y = opaque(2.7f);
  EXPECT_TRUE(same(S::F32, F(std::pow(x, y)), eval_binary(Op::Pow, S::F32, F(x), F(y))));
}

// ---------------------------------------------------------------------------------------------
// Casts

// Float to each integer type, as NumPy 2.4 casts a one-element array on x86-64. NaN, inf and
// out-of-range values are unspecified (NumPy's own SIMD loops give other values for them).
TEST(Eval, FloatToIntCastsMatchNumPy) {
  const Scalar to[8] = {S::I8, S::I16, S::I32, S::I64, S::U8, S::U16, S::U32, S::U64};
  struct Row {
    Scalar from;
    double x;
    Int want[8];
  };
  // clang-format off
  const Row rows[] = {
      {S::F64, kNaN, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 9223372036854775808u}},
      {S::F64, kInf, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 0u}},
      {S::F64, -kInf, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 9223372036854775808u}},
      {S::F64, -0.0, {0, 0, 0, 0, 0, 0, 0, 0u}},
      {S::F64, -1.5, {-1, -1, -1, -1, 255, 65535, 4294967295, 18446744073709551615u}},
      {S::F64, 0.99, {0, 0, 0, 0, 0, 0, 0, 0u}},
      {S::F64, 127.9, {127, 127, 127, 127, 127, 127, 127, 127u}},
      {S::F64, 128.0, {-128, 128, 128, 128, 128, 128, 128, 128u}},
      {S::F64, -129.0, {127, -129, -129, -129, 127, 65407, 4294967167, 18446744073709551487u}},
      {S::F64, 300.5, {44, 300, 300, 300, 44, 300, 300, 300u}},
      {S::F64, 70000.0, {112, 4464, 70000, 70000, 112, 4464, 70000, 70000u}},
      {S::F64, 3000000000.0, {0, 0, INT32_MIN, 3000000000, 0, 0, 3000000000, 3000000000u}},
      {S::F64, 5000000000.0, {0, 0, INT32_MIN, 5000000000, 0, 0, 705032704, 5000000000u}},
      {S::F64, -1e10, {0, 0, INT32_MIN, -10000000000, 0, 0, 2884901888, 18446744063709551616u}},
      {S::F64, 9.223372036854776e+18, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 9223372036854775808u}},
      {S::F64, -9.223372036854776e+18, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 9223372036854775808u}},
      {S::F64, 1e+19, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 10000000000000000000u}},
      {S::F64, 1e+20, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 0u}},
      {S::F32, kNaN, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 9223372036854775808u}},
      {S::F32, 3000000000.0, {0, 0, INT32_MIN, 3000000000, 0, 0, 3000000000, 3000000000u}},
      {S::F32, 5000000000.0, {0, 0, INT32_MIN, 5000000000, 0, 0, 705032704, 5000000000u}},
      {S::F32, 9.999999980506448e+18, {0, 0, INT32_MIN, INT64_MIN, 0, 0, 0, 9999999980506447872u}},
      {S::F32, -1.0, {-1, -1, -1, -1, 255, 65535, 4294967295, 18446744073709551615u}},
  };
  // clang-format on
  for (const Row& r : rows)
    for (int k = 0; k < 8; ++k)
      EXPECT_TRUE(same(to[k], I(r.want[k].bits), eval_cast(F(r.x), r.from, to[k])))
          << short_name(r.from) << " " << r.x << " -> " << short_name(to[k]);
}

struct CastCase {
  Scalar from, to;
  Literal x, want;
};

// clang-format off
const CastCase kCasts[] = {
    // Integer to float rounds to nearest; uint64 converts as unsigned.
    {S::U64, S::F64, U(UINT64_MAX), F(18446744073709551616.0)},
    {S::U64, S::F32, U(UINT64_MAX), F(18446744073709551616.0)},
    {S::U64, S::F64, U((1ull << 63) + 1025), F(9223372036854777856.0)},
    {S::U64, S::F32, U((1ull << 63) + 1025), F(9223372036854775808.0)},
    {S::I64, S::F64, I((1ll << 53) + 1), F(9007199254740992.0)},
    {S::I64, S::F32, I(INT64_MIN), F(-9223372036854775808.0)},
    {S::I32, S::F32, I((1 << 24) + 1), F(16777216)},
    {S::I32, S::F64, I((1 << 24) + 1), F(16777217)},
    {S::U8, S::F32, I(255), F(255)},
    // float64 to float32 rounds, overflowing to inf and underflowing to 0.
    {S::F64, S::F32, F(0.1), F(0.10000000149011612)},
    {S::F64, S::F32, F(1e39), F(kInf)},
    {S::F64, S::F32, F(-1e39), F(-kInf)},
    {S::F64, S::F32, F(1e-46), F(0.0)},
    {S::F64, S::F32, F(-1e-46), F(-0.0)},
    {S::F64, S::F32, F(kNaN), F(kNaN)},
    {S::F32, S::F64, F(0.10000000149011612), F(0.10000000149011612)},
    // Integer to integer wraps.
    {S::I64, S::U64, I(-1), U(UINT64_MAX)},
    {S::U64, S::I8, U(UINT64_MAX), I(-1)},
    {S::I32, S::U8, I(300), I(44)},
    {S::U8, S::I8, I(200), I(-56)},
    {S::I8, S::U16, I(-1), I(65535)},
    {S::I16, S::I8, I(-129), I(127)},
    {S::U64, S::I32, U((1ull << 40) + 5), I(5)},
    {S::U32, S::I64, I(4294967295), I(4294967295)},
    // Bool to anything is 0/1; anything to bool is x != 0, NaN included.
    {S::Bool, S::F64, B(true), F(1)},
    {S::Bool, S::I64, B(true), I(1)},
    {S::Bool, S::U8, B(false), I(0)},
    {S::F64, S::Bool, F(kNaN), B(true)},
    {S::F64, S::Bool, F(-0.0), B(false)},
    {S::F32, S::Bool, F(1e-45), B(true)},
    {S::I8, S::Bool, I(-128), B(true)},
    {S::U64, S::Bool, I(1ll << 32), B(true)},
    {S::I32, S::Bool, I(0), B(false)},
};
// clang-format on

TEST(Eval, OtherCasts) {
  for (const CastCase& c : kCasts)
    EXPECT_TRUE(same(c.to, c.want, eval_cast(c.x, c.from, c.to)))
        << short_name(c.from) << " " << show(c.from, c.x) << " -> " << short_name(c.to);
}

// ---------------------------------------------------------------------------------------------
// Interpreter

const Type kF64{S::F64}, kI32{S::I32}, kU8{S::U8}, kF32{S::F32}, kBool{S::Bool};

ExprPtr f64(double v) { return make_float(v, kF64); }
ExprPtr bin(Op op, ExprPtr a, ExprPtr b) { return make_binary(op, std::move(a), std::move(b)); }
ExprPtr un(Op op, ExprPtr x) { return make_unary(op, std::move(x)); }

// A European call: intrinsic value at expiry (early return), else Black-Scholes with erfc.
Function black_scholes() {
  FunctionBuilder fb("call", "bs.py", {1, 0});
  ExprPtr s = fb.add_param("s", kF64), k = fb.add_param("k", kF64);
  ExprPtr t = fb.add_param("t", kF64), v = fb.add_param("v", kF64);
  fb.begin_if(bin(Op::Le, t, f64(0.0)), {2, 4});
  fb.ret(bin(Op::Max, bin(Op::Sub, s, k), f64(0.0)), {3, 8});
  fb.end_if();
  fb.assign("sq", bin(Op::Mul, v, un(Op::Sqrt, t)), {4, 4});
  ExprPtr sq = fb.read_var("sq", {5, 0});
  ExprPtr drift = bin(Op::Mul, bin(Op::Mul, bin(Op::Mul, f64(0.5), v), v), t);
  fb.assign("d1", bin(Op::Div, bin(Op::Add, un(Op::Log, bin(Op::Div, s, k)), drift), sq), {5, 4});
  ExprPtr d1 = fb.read_var("d1", {6, 0});
  fb.assign("d2", bin(Op::Sub, d1, sq), {6, 4});
  ExprPtr d2 = fb.read_var("d2", {7, 0});
  ExprPtr root2 = un(Op::Sqrt, f64(2.0));
  auto cdf = [&](ExprPtr d) {
    return bin(Op::Mul, f64(0.5), un(Op::Erfc, bin(Op::Div, un(Op::Neg, d), root2)));
  };
  fb.ret(bin(Op::Sub, bin(Op::Mul, s, cdf(d1)), bin(Op::Mul, k, cdf(d2))), {7, 4});
  return fb.finish();
}

double black_scholes_ref(double s, double k, double t, double v) {
  if (t <= 0.0) return 0.0 > s - k ? 0.0 : s - k;
  double sq = v * std::sqrt(t);
  double d1 = (std::log(s / k) + 0.5 * v * v * t) / sq, d2 = d1 - sq;
  auto cdf = [](double d) { return 0.5 * std::erfc(-d / std::sqrt(2.0)); };
  return s * cdf(d1) - k * cdf(d2);
}

TEST(Interpreter, BlackScholesWithEarlyReturn) {
  Function fn = black_scholes();
  ASSERT_EQ(fn.result, kF64);
  const double cases[][4] = {{100, 100, 1, 0.2},  {120, 100, 0.5, 0.3}, {80, 100, 2, 0.25},
                             {100, 90, 0.0, 0.2}, {90, 100, -1, 0.2},   {100, 100, 1e-9, 1}};
  for (const auto& c : cases) {
    double got = interpret(fn, {F(c[0]), F(c[1]), F(c[2]), F(c[3])}).f;
    EXPECT_DOUBLE_EQ(got, black_scholes_ref(c[0], c[1], c[2], c[3]))
        << c[0] << " " << c[1] << " " << c[2] << " " << c[3];
  }
  EXPECT_EQ(interpret(fn, {F(100), F(90), F(0.0), F(0.2)}).f, 10.0);
  EXPECT_EQ(interpret(fn, {F(80), F(90), F(-1), F(0.2)}).f, 0.0);
}

// Locals start at zero, are overwritten in nested branches, and integer math wraps and floors:
//   def f(x: i32, y: i32):
//     if x > 0:
//       if y > 0: r = x + y
//       else: r = x * y
//       r = r // 3
//     elif y == 0: flag = x == y  (assigns an otherwise unused local)
//     return r
Function nested_ifs() {
  FunctionBuilder fb("f", "f.py", {1, 0});
  ExprPtr x = fb.add_param("x", kI32), y = fb.add_param("y", kI32);
  ExprPtr zero = make_int(0, kI32);
  fb.begin_if(bin(Op::Gt, x, zero), {2, 2});
  fb.begin_if(bin(Op::Gt, y, zero), {3, 4});
  fb.assign("r", bin(Op::Add, x, y), {3, 14});
  fb.begin_else();
  fb.assign("r", bin(Op::Mul, x, y), {4, 10});
  fb.end_if();
  fb.assign("r", bin(Op::FloorDiv, fb.read_var("r", {5, 8}), make_int(3, kI32)), {5, 4});
  fb.begin_else();
  fb.begin_if(bin(Op::Eq, y, zero), {6, 2});
  fb.assign("flag", bin(Op::Eq, x, y), {6, 16});
  fb.end_if();
  fb.end_if();
  fb.ret(fb.read_var("r", {7, 9}), {7, 2});
  return fb.finish();
}

TEST(Interpreter, NestedIfsAndLocals) {
  Function fn = nested_ifs();
  ASSERT_EQ(fn.result, kI32);
  ASSERT_EQ(fn.locals.size(), 2u);
  struct Case {
    int32_t x, y, want;
  };
  const Case cases[] = {
      {5, 4, 3},                   // (5 + 4) // 3
      {5, -4, -7},                 // (5 * -4) // 3 floors
      {INT32_MAX, 1, -715827883},  // INT32_MIN // 3 after the wrap
      {65536, -65536, 0},          // the product wraps to 0
      {-5, 4, 0},                  // r is never assigned: locals start at zero
      {-5, 0, 0},
  };
  for (const Case& c : cases)
    EXPECT_EQ(interpret(fn, {I(c.x), I(c.y)}), I(c.want)) << c.x << ", " << c.y;
}

// Explicit casts, a select and float32 arithmetic:
//   def g(a: u8, b: u8) -> f32: return f32(a + b) / 2 if a < b else -f32(b)
TEST(Interpreter, CastsSelectAndFloat32) {
  FunctionBuilder fb("g", "g.py", {1, 0});
  ExprPtr a = fb.add_param("a", kU8), b = fb.add_param("b", kU8);
  ExprPtr mean = bin(Op::Div, make_cast(bin(Op::Add, a, b), kF32), make_float(2, kF32));
  fb.ret(make_select(bin(Op::Lt, a, b), mean, un(Op::Neg, make_cast(b, kF32))), {1, 4});
  Function fn = fb.finish();
  ASSERT_EQ(fn.result, kF32);
  EXPECT_EQ(interpret(fn, {I(1), I(2)}).f, 1.5);
  EXPECT_EQ(interpret(fn, {I(100), I(200)}).f, 22.0);  // 300 wraps to 44 in uint8
  EXPECT_EQ(interpret(fn, {I(7), I(3)}).f, -3.0);
  EXPECT_EQ(interpret(fn, {I(300), I(45)}).f, 44.5);  // arguments are normalized: 300 is 44
}

TEST(Interpreter, WrongArgumentCountThrows) {
  Function fn = black_scholes();
  EXPECT_THROW(interpret(fn, {F(1), F(2)}), std::invalid_argument);
  EXPECT_THROW(interpret(fn, {F(1), F(2), F(3), F(4), F(5)}), std::invalid_argument);
}

}  // namespace
}  // namespace ember::ir

namespace ember::ir {
namespace {

// A kernel over a 2-d domain on memory: loops, atomics, negative indices, and
// an IndexError with NumPy's message for an index out of range.
TEST(InterpretKernel, RunsEveryIndexOnMemory) {
  FunctionBuilder b("k", "k.py", {1, 1}, 2);
  ExprPtr out = b.add_param("out", Type{Scalar::I32, false, 2});
  ExprPtr total = b.add_param("total", Type{Scalar::F64, false, 1});
  ExprPtr i = b.tid(0, {2, 1}), j = b.tid(1, {2, 1});
  b.assign("s", make_int(0, Type{Scalar::I64}), {3, 1});
  b.begin_for("m", make_int(0, Type{Scalar::I64}), j, make_int(1, Type{Scalar::I64}), {4, 1});
  b.assign("s", make_binary(Op::Add, b.read_var("s", {5, 1}), b.read_var("m", {5, 1})), {5, 1});
  b.end_for();
  b.store(out, {i, j}, b.read_var("s", {6, 1}), {6, 1});
  b.atomic(Op::Add, total, {make_int(-1, Type{Scalar::I64})}, make_float(0.5, Type{Scalar::F64}),
           {7, 1});
  Function fn = b.finish();
  std::vector<int32_t> grid(6, -1);
  std::vector<double> sums(2, 0.0);
  std::vector<KernelArg> args(2);
  args[0].array = {grid.data(), {2, 3}, {12, 4}};
  args[1].array = {sums.data(), {2}, {8}};
  interpret_kernel(fn, args, {2, 3});
  EXPECT_EQ(grid, (std::vector<int32_t>{0, 0, 1, 0, 0, 1}));
  EXPECT_EQ(sums, (std::vector<double>{0.0, 3.0}));
  args[1].array = {sums.data(), {0}, {8}};  // total[-1] of an empty array
  try {
    interpret_kernel(fn, args, {1, 1});
    FAIL() << "no IndexError";
  } catch (const IndexError& e) {
    EXPECT_EQ(std::string(e.what()),
              "index -1 is out of bounds for axis 0 with size 0 (array 'total' of shape (0,)) in "
              "kernel 'k' at k.py:7");
  }
}

}  // namespace
}  // namespace ember::ir
