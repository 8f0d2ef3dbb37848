// Scalar types of the IR and NumPy 2 type promotion (NEP 50).
//
// Scalar semantics of every ember kernel (they follow NumPy's ufunc rules):
//  - Promotion is NumPy 2's: same kind -> the wider type; signed with unsigned
//    -> the signed type wide enough for both (int64 with uint64 -> float64);
//    integer with float -> a float wide enough for the integer (int8/16 and
//    uint8/16 stay float32, wider ones go to float64); bool with anything ->
//    the other type.
//  - Python literals and Python scalar arguments are "weak": they take the
//    type of the other operand when it is of the same or a higher kind
//    (uint8 + 1 -> uint8, float32 * 2.0 -> float32). Two weak operands stay
//    weak and become int64 / float64 / bool at the end. A Python int literal
//    that its integer partner cannot hold (uint8 + 300) is a compile error,
//    as NumPy raises OverflowError.
//  - `/` is true division: integers divide as float64.
//  - `//` and `%` follow Python's sign rules (floor division; the remainder
//    has the sign of the divisor). Integer division and modulo by zero give 0.
//  - Integer overflow wraps (two's complement), including INT_MIN // -1.
//  - Float to integer conversion gives NumPy's results on x86-64: truncation,
//    through int32 for narrower types and int64 for uint32; NaN and values
//    out of range give what cvttsd2si gives (unspecified in NumPy).
//  - Floats are IEEE 754: NaN, +-inf and signed zero propagate as NumPy's do.
//    Nothing is reassociated unless the user asks for fastmath.
//  - Shifts by a negative amount or by the bit width or more give 0 (or -1 for
//    a right shift of a negative value), as NumPy's do.
//  - float16/bfloat16 are not supported yet: where NumPy would produce
//    float16 (math on int8/uint8/bool), ember produces float32.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ember::ir {

enum class Scalar : uint8_t { Bool, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64 };
inline constexpr int kNumScalars = 11;

enum class Kind : uint8_t { Bool, Unsigned, Signed, Float };

// A value type: a scalar, or an array of `ndim` dimensions of that scalar.
// `weak` marks Python literals and Python scalar arguments (NEP 50).
struct Type {
  Scalar scalar = Scalar::F64;
  bool weak = false;
  uint8_t ndim = 0;

  bool operator==(const Type&) const = default;
  bool is_array() const { return ndim > 0; }
};

Kind kind_of(Scalar s);
int bits_of(Scalar s);  // bool counts as 8 (its storage size)
inline bool is_float(Scalar s) { return kind_of(s) == Kind::Float; }
inline bool is_int(Scalar s) { return kind_of(s) == Kind::Signed || kind_of(s) == Kind::Unsigned; }
inline bool is_signed(Scalar s) { return kind_of(s) == Kind::Signed; }

// "f64", "i32", "u8", "bool" ... and their NumPy names ("float64", ...).
std::string_view short_name(Scalar s);
std::string_view numpy_name(Scalar s);
std::optional<Scalar> scalar_from_short_name(std::string_view name);
std::optional<Scalar> scalar_from_numpy_name(std::string_view name);
std::string to_string(Type t);  // "f64", "f64?" for weak, "f64[2]" for arrays

// The smallest signed integer / float able to hold every value of `s`.
Scalar int_for(Scalar a, Scalar b);
Scalar float_for(Scalar s);  // the float math on `s` computes in (int8 -> f32, int32 -> f64)

// NumPy 2 promotion of two value types, weak rules included.
Type promote(Type a, Type b);
// A weak type made concrete (weak int -> int64, weak float -> float64).
Type concrete(Type t);

}  // namespace ember::ir
