// Scalar type names and NumPy 2 promotion.
#include "ir/types.h"

#include <array>

namespace ember::ir {
namespace {

struct Info {
  Scalar scalar;
  Kind kind;
  int bits;
  std::string_view short_name;
  std::string_view numpy_name;
};

constexpr std::array<Info, kNumScalars> kInfo = {{
    {Scalar::Bool, Kind::Bool, 8, "bool", "bool"},
    {Scalar::I8, Kind::Signed, 8, "i8", "int8"},
    {Scalar::I16, Kind::Signed, 16, "i16", "int16"},
    {Scalar::I32, Kind::Signed, 32, "i32", "int32"},
    {Scalar::I64, Kind::Signed, 64, "i64", "int64"},
    {Scalar::U8, Kind::Unsigned, 8, "u8", "uint8"},
    {Scalar::U16, Kind::Unsigned, 16, "u16", "uint16"},
    {Scalar::U32, Kind::Unsigned, 32, "u32", "uint32"},
    {Scalar::U64, Kind::Unsigned, 64, "u64", "uint64"},
    {Scalar::F32, Kind::Float, 32, "f32", "float32"},
    {Scalar::F64, Kind::Float, 64, "f64", "float64"},
}};

const Info& info(Scalar s) { return kInfo[static_cast<int>(s)]; }

Scalar signed_of_bits(int bits) {
  switch (bits) {
    case 8: return Scalar::I8;
    case 16: return Scalar::I16;
    case 32: return Scalar::I32;
    default: return Scalar::I64;
  }
}

// Promotion of two concrete scalars (NumPy's promotion table).
Scalar promote_scalar(Scalar a, Scalar b) {
  if (a == b) return a;
  Kind ka = kind_of(a), kb = kind_of(b);
  if (ka == Kind::Bool) return b;
  if (kb == Kind::Bool) return a;
  if (ka == kb) return bits_of(a) >= bits_of(b) ? a : b;
  if (ka == Kind::Float || kb == Kind::Float) {
    Scalar f = ka == Kind::Float ? a : b, i = ka == Kind::Float ? b : a;
    Scalar need = float_for(i);
    return bits_of(need) > bits_of(f) ? need : f;
  }
  return int_for(a, b);
}

}  // namespace

Kind kind_of(Scalar s) { return info(s).kind; }
int bits_of(Scalar s) { return info(s).bits; }
std::string_view short_name(Scalar s) { return info(s).short_name; }
std::string_view numpy_name(Scalar s) { return info(s).numpy_name; }

std::optional<Scalar> scalar_from_short_name(std::string_view name) {
  for (const Info& i : kInfo)
    if (i.short_name == name) return i.scalar;
  return std::nullopt;
}

std::optional<Scalar> scalar_from_numpy_name(std::string_view name) {
  for (const Info& i : kInfo)
    if (i.numpy_name == name) return i.scalar;
  return std::nullopt;
}

std::string to_string(Type t) {
  std::string s(short_name(t.scalar));
  if (t.weak) s += "?";
  if (t.ndim) s += "[" + std::to_string(t.ndim) + "]";
  return s;
}

Scalar int_for(Scalar a, Scalar b) {
  if (kind_of(a) == kind_of(b)) return bits_of(a) >= bits_of(b) ? a : b;
  Scalar s = is_signed(a) ? a : b, u = is_signed(a) ? b : a;
  if (bits_of(u) >= 64) return Scalar::F64;  // int64 with uint64: NumPy goes to float64
  int bits = std::max(bits_of(s), 2 * bits_of(u));
  return signed_of_bits(bits);
}

Scalar float_for(Scalar s) {
  if (kind_of(s) == Kind::Float) return s;
  return bits_of(s) <= 16 ? Scalar::F32 : Scalar::F64;
}

Type promote(Type a, Type b) {
  Type r;
  if (a.weak && b.weak) {
    r.scalar = promote_scalar(a.scalar, b.scalar);
    r.weak = true;
    return r;
  }
  if (a.weak || b.weak) {
    Type weak = a.weak ? a : b, strong = a.weak ? b : a;
    Kind kw = kind_of(weak.scalar), ks = kind_of(strong.scalar);
    // A weak value of a kind no higher than the strong one adopts its type.
    bool adopts = kw == Kind::Bool || ks == Kind::Float ||
                  (kw != Kind::Float && ks != Kind::Bool);
    r.scalar = adopts ? strong.scalar : concrete(weak).scalar;
    return r;
  }
  r.scalar = promote_scalar(a.scalar, b.scalar);
  return r;
}

Type concrete(Type t) {
  if (!t.weak) return t;
  t.weak = false;
  // A Python int is an int64, or a uint64 from 2**63 on (as NumPy 2 reads it).
  if (is_int(t.scalar) && t.scalar != Scalar::U64) t.scalar = Scalar::I64;
  if (is_float(t.scalar)) t.scalar = Scalar::F64;
  return t;
}

}  // namespace ember::ir
