// Scalar semantics of every operator on literals (NumPy 2's ufunc rules, see types.h).
#include "ir/eval.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace ember::ir {
namespace {

// Calls f(std::type_identity<T>{}) with T the C++ type that holds a value of `s`.
template <class F>
Literal visit(Scalar s, F&& f) {
  switch (s) {
    case Scalar::Bool: return f(std::type_identity<bool>{});
    case Scalar::I8: return f(std::type_identity<int8_t>{});
    case Scalar::I16: return f(std::type_identity<int16_t>{});
    case Scalar::I32: return f(std::type_identity<int32_t>{});
    case Scalar::I64: return f(std::type_identity<int64_t>{});
    case Scalar::U8: return f(std::type_identity<uint8_t>{});
    case Scalar::U16: return f(std::type_identity<uint16_t>{});
    case Scalar::U32: return f(std::type_identity<uint32_t>{});
    case Scalar::U64: return f(std::type_identity<uint64_t>{});
    case Scalar::F32: return f(std::type_identity<float>{});
    case Scalar::F64: return f(std::type_identity<double>{});
  }
  throw std::invalid_argument("eval: unknown scalar type");
}

template <class T>
constexpr bool kFloat = std::is_floating_point_v<T>;

// Literal <-> C++ value. Integer conversions are modular (C++20), so `put`
// stores uint64 values above INT64_MAX as their bits and `get` of a bool is x != 0.
template <class T>
T get(Literal x) {
  if constexpr (kFloat<T>)
    return static_cast<T>(x.f);
  else
    return static_cast<T>(x.i);
}

template <class T>
Literal put(T v) {
  Literal r;
  if constexpr (kFloat<T>)
    r.f = v;
  else
    r.i = static_cast<int64_t>(v);
  return r;
}

[[noreturn]] void unsupported(Op op, Scalar t) {
  throw std::invalid_argument(std::string("eval: '") + op_name(op) + "' is not defined on " +
                              std::string(numpy_name(t)) + " at the Strict level");
}

template <class T>
bool is_neg(T x) {
  if constexpr (std::is_signed_v<T>)
    return x < 0;
  else
    return false;
}

// Integer arithmetic goes through uint64, where overflow is defined, and wraps
// back to T. For bool the conversion is x != 0, which makes add `or` and mul `and`.
template <class T>
T wrap(uint64_t v) {
  return static_cast<T>(v);
}

template <class T>
uint64_t bits(T v) {
  return static_cast<uint64_t>(v);
}

// Python's floor division and modulo. By zero both give 0; x // -1 is spelled as
// a wrapping negation because INT_MIN / -1 is undefined behaviour in C++.
template <class T>
std::pair<T, T> int_divmod(T a, T b) {
  if (b == 0) return {0, 0};
  if constexpr (std::is_signed_v<T>)
    if (b == -1) return {wrap<T>(0 - bits(a)), 0};
  T q = a / b, r = a % b;
  if (r != 0 && is_neg(r) != is_neg(b)) return {T(q - 1), T(r + b)};
  return {q, r};
}

// NumPy's npy_divmod, step by step (the rounding fix-ups matter at the edges).
template <class T>
std::pair<T, T> float_divmod(T a, T b) {
  T mod = std::fmod(a, b);
  if (b == 0) return {a / b, mod};
  T div = (a - mod) / b;
  if (mod != 0) {
    if ((b < 0) != (mod < 0)) {
      mod += b;
      div -= 1;
    }
  } else {
    mod = std::copysign(T(0), b);
  }
  T floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > T(0.5)) floordiv += 1;
  } else {
    floordiv = std::copysign(T(0), a / b);
  }
  return {floordiv, mod};
}

// Repeated squaring in uint64 wraps like NumPy. NumPy raises for a negative
// exponent; we define x ** -n as the truncated exact value: 1 for x == 1,
// +-1 for x == -1, and 0 otherwise (including 0 ** -n).
template <class T>
T int_pow(T a, T b) {
  if (is_neg(b)) {
    if (a == 1) return 1;
    if constexpr (std::is_signed_v<T>)
      if (a == -1) return (b & 1) ? -1 : 1;
    return 0;
  }
  uint64_t r = 1, base = bits(a);
  for (uint64_t e = bits(b); e; e >>= 1, base *= base)
    if (e & 1) r *= base;
  return wrap<T>(r);
}

// A shift by a negative amount or by the width or more shifts everything out.
template <class T>
T int_shift(bool left, T a, T b) {
  constexpr uint64_t width = sizeof(T) * 8;
  bool in_range = !is_neg(b) && bits(b) < width;
  if (left) return in_range ? wrap<T>(bits(a) << bits(b)) : T(0);
  if (in_range) return static_cast<T>(a >> b);  // arithmetic for signed (C++20)
  return is_neg(a) ? T(-1) : T(0);
}

template <class T>
T int_binary(Op op, Scalar t, T a, T b) {
  switch (op) {
    case Op::Add: return wrap<T>(bits(a) + bits(b));
    case Op::Sub: return wrap<T>(bits(a) - bits(b));
    case Op::Mul: return wrap<T>(bits(a) * bits(b));
    case Op::FloorDiv: return int_divmod(a, b).first;
    case Op::Mod: return int_divmod(a, b).second;
    case Op::Fmod:  // C's truncated remainder; x % -1 is 0 but UB for INT_MIN in C++
      if (b == 0 || (is_neg(b) && b == T(-1))) return 0;
      return static_cast<T>(a % b);
    case Op::Pow: return int_pow(a, b);
    case Op::BitAnd: return static_cast<T>(a & b);
    case Op::BitOr: return static_cast<T>(a | b);
    case Op::BitXor: return static_cast<T>(a ^ b);
    case Op::Shl:
    case Op::Shr: return int_shift(op == Op::Shl, a, b);
    default: unsupported(op, t);
  }
}

template <class T>
T float_binary(Op op, Scalar t, T a, T b) {
  switch (op) {
    case Op::Add: return a + b;
    case Op::Sub: return a - b;
    case Op::Mul: return a * b;
    case Op::Div: return a / b;
    case Op::FloorDiv: return float_divmod(a, b).first;
    case Op::Mod: return float_divmod(a, b).second;
    case Op::Fmod: return std::fmod(a, b);
    case Op::Pow: return std::pow(a, b);
    case Op::Atan2: return std::atan2(a, b);
    case Op::Hypot: return std::hypot(a, b);
    case Op::CopySign: return std::copysign(a, b);
    default: unsupported(op, t);
  }
}

// NumPy's minimum/maximum: NaN wins; between zeros -0.0 is the smaller.
template <class T>
T nan_min_max(bool max, T a, T b) {
  // NumPy's loops: the first operand when it wins or is NaN, else the second
  // (so a tie between -0.0 and 0.0 gives the second).
  bool first = max ? a > b : a < b;
  if constexpr (kFloat<T>) first = first || std::isnan(a);
  return first ? a : b;
}

bool compare(Op op, auto a, auto b) {
  switch (op) {
    case Op::Eq: return a == b;
    case Op::Ne: return a != b;
    case Op::Lt: return a < b;
    case Op::Le: return a <= b;
    case Op::Gt: return a > b;
    default: return a >= b;
  }
}

template <class T>
Literal binary(Op op, Scalar t, T a, T b) {
  if (is_comparison(op)) return put(compare(op, a, b));
  switch (op) {
    // Python's builtins: the first operand unless the second is strictly beyond it.
    case Op::Min: return put(b < a ? b : a);
    case Op::Max: return put(b > a ? b : a);
    case Op::Minimum:
    case Op::Maximum: return put(nan_min_max(op == Op::Maximum, a, b));
    default: break;
  }
  if constexpr (kFloat<T>)
    return put(float_binary(op, t, a, b));
  else
    return put(int_binary(op, t, a, b));
}

template <class T>
T int_unary(Op op, Scalar t, T x) {
  switch (op) {
    case Op::Neg: return wrap<T>(0 - bits(x));
    case Op::Abs: return is_neg(x) ? wrap<T>(0 - bits(x)) : x;  // abs(INT_MIN) == INT_MIN
    case Op::Invert:
      if constexpr (std::is_same_v<T, bool>)
        return !x;
      else
        return static_cast<T>(~x);
    case Op::Floor:
    case Op::Ceil:
    case Op::Trunc:
    case Op::Rint: return x;
    default: unsupported(op, t);
  }
}

// The <cmath> overloads keep float in float precision (sqrtf, expf, ...).
template <class T>
T float_unary(Op op, Scalar t, T x) {
  switch (op) {
    case Op::Neg: return -x;
    case Op::Abs: return std::fabs(x);
    case Op::Sqrt: return std::sqrt(x);
    case Op::Cbrt: return std::cbrt(x);
    case Op::Exp: return std::exp(x);
    case Op::Exp2: return std::exp2(x);
    case Op::Expm1: return std::expm1(x);
    case Op::Log: return std::log(x);
    case Op::Log2: return std::log2(x);
    case Op::Log10: return std::log10(x);
    case Op::Log1p: return std::log1p(x);
    case Op::Sin: return std::sin(x);
    case Op::Cos: return std::cos(x);
    case Op::Tan: return std::tan(x);
    case Op::Asin: return std::asin(x);
    case Op::Acos: return std::acos(x);
    case Op::Atan: return std::atan(x);
    case Op::Sinh: return std::sinh(x);
    case Op::Cosh: return std::cosh(x);
    case Op::Tanh: return std::tanh(x);
    case Op::Asinh: return std::asinh(x);
    case Op::Acosh: return std::acosh(x);
    case Op::Atanh: return std::atanh(x);
    case Op::Erf: return std::erf(x);
    case Op::Erfc: return std::erfc(x);
    case Op::Floor: return std::floor(x);
    case Op::Ceil: return std::ceil(x);
    case Op::Trunc: return std::trunc(x);
    case Op::Rint: return std::nearbyint(x);  // half to even in the default rounding mode
    default: unsupported(op, t);
  }
}

template <class T>
Literal unary(Op op, Scalar t, T x) {
  switch (op) {
    case Op::Not: return put(x == 0);  // NaN is truthy
    case Op::IsNan: return put(kFloat<T> && std::isnan(static_cast<double>(x)));
    case Op::IsInf: return put(kFloat<T> && std::isinf(static_cast<double>(x)));
    case Op::IsFinite: return put(!kFloat<T> || std::isfinite(static_cast<double>(x)));
    case Op::SignBit: return put(kFloat<T> ? std::signbit(static_cast<double>(x)) : is_neg(x));
    default: break;
  }
  if constexpr (kFloat<T>)
    return put(float_unary(op, t, x));
  else
    return put(int_unary(op, t, x));
}

// What x86-64's cvttsd2si gives: truncation, or INT_MIN for NaN and out of range.
template <class I>
I truncate_x86(double v) {
  constexpr double limit = -static_cast<double>(std::numeric_limits<I>::min());  // 2^(N-1)
  return v >= -limit && v < limit ? static_cast<I>(v) : std::numeric_limits<I>::min();
}

// Float to integer as C's casts compile on x86-64 (and so NumPy's scalar loops);
// unspecified, as in NumPy (its SIMD loops differ), for NaN, inf and values out
// of range, but never undefined behaviour here. Compiled code (codegen/lower.cpp)
// emits the same steps.
template <class T>
T float_to_int(double v) {
  if constexpr (std::is_same_v<T, uint64_t>) {
    // The usual trick: values from 2^63 up convert as v - 2^63 with the top bit set.
    constexpr double half = 0x1p63;
    if (v >= half) return static_cast<T>(truncate_x86<int64_t>(v - half)) ^ (T(1) << 63);
    return static_cast<T>(truncate_x86<int64_t>(v));
  } else if constexpr (std::is_signed_v<T> && sizeof(T) >= 4) {
    return truncate_x86<T>(v);
  } else {
    // Narrower types convert through the next signed type x86 has, then wrap.
    using Wide = std::conditional_t<sizeof(T) >= 4, int64_t, int32_t>;
    return static_cast<T>(truncate_x86<Wide>(v));
  }
}

template <class To, class From>
To convert(From v) {
  if constexpr (std::is_same_v<To, bool> || kFloat<To> || !kFloat<From>)
    return static_cast<To>(v);  // x != 0 (NaN true), rounding, or modular wrap
  else
    return float_to_int<To>(static_cast<double>(v));
}

}  // namespace

Literal eval_cast(Literal x, Scalar from, Scalar to) {
  return visit(from, [&]<class F>(std::type_identity<F>) {
    return visit(to, [&]<class T>(std::type_identity<T>) { return put(convert<T>(get<F>(x))); });
  });
}

Literal eval_unary(Op op, Scalar t, Literal x) {
  if (!is_unary(op)) throw std::invalid_argument(std::string("eval: not unary: ") + op_name(op));
  return visit(t, [&]<class T>(std::type_identity<T>) { return unary(op, t, get<T>(x)); });
}

Literal eval_binary(Op op, Scalar t, Literal a, Literal b) {
  if (!is_binary(op)) throw std::invalid_argument(std::string("eval: not binary: ") + op_name(op));
  return visit(t,
               [&]<class T>(std::type_identity<T>) { return binary(op, t, get<T>(a), get<T>(b)); });
}

}  // namespace ember::ir
