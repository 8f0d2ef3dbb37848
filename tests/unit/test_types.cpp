// ir::promote checked against NumPy 2's promotion table, weak (NEP 50) cases included.
#include <gtest/gtest.h>

#include "ir/types.h"

namespace ember::ir {
namespace {

constexpr Scalar Bool = Scalar::Bool, I8 = Scalar::I8, I16 = Scalar::I16, I32 = Scalar::I32,
                 I64 = Scalar::I64, U8 = Scalar::U8, U16 = Scalar::U16, U32 = Scalar::U32,
                 U64 = Scalar::U64, F32 = Scalar::F32, F64 = Scalar::F64;

// Rows and columns in Scalar order. Generated with NumPy 2.4:
//   np.result_type(np.dtype(a), np.dtype(b)) for every pair.
// No entry is float16, so ember's float_for() deviation does not show here.
constexpr Scalar kTable[kNumScalars][kNumScalars] = {
    // Bool I8  I16  I32  I64  U8   U16  U32  U64  F32  F64
    {Bool, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64},   // Bool
    {I8, I8, I16, I32, I64, I16, I32, I64, F64, F32, F64},    // I8
    {I16, I16, I16, I32, I64, I16, I32, I64, F64, F32, F64},  // I16
    {I32, I32, I32, I32, I64, I32, I32, I64, F64, F64, F64},  // I32
    {I64, I64, I64, I64, I64, I64, I64, I64, F64, F64, F64},  // I64
    {U8, I16, I16, I32, I64, U8, U16, U32, U64, F32, F64},    // U8
    {U16, I32, I32, I32, I64, U16, U16, U32, U64, F32, F64},  // U16
    {U32, I64, I64, I64, I64, U32, U32, U32, U64, F64, F64},  // U32
    {U64, F64, F64, F64, F64, U64, U64, U64, U64, F64, F64},  // U64
    {F32, F32, F32, F64, F64, F32, F32, F64, F64, F32, F64},  // F32
    {F64, F64, F64, F64, F64, F64, F64, F64, F64, F64, F64},  // F64
};

// np.result_type(np.dtype(a), 1), (a, 1.0) and (a, True), in Scalar order.
constexpr Scalar kWithWeakInt[kNumScalars] = {I64, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64};
constexpr Scalar kWithWeakFloat[kNumScalars] = {F64, F64, F64, F64, F64, F64,
                                                F64, F64, F64, F32, F64};
constexpr Scalar kWithWeakBool[kNumScalars] = {Bool, I8,  I16, I32, I64, U8,
                                               U16,  U32, U64, F32, F64};

Scalar scalar(int i) { return static_cast<Scalar>(i); }
Type strong(Scalar s) { return Type{s, false, 0}; }
Type weak(Scalar s) { return Type{s, true, 0}; }

TEST(Promote, MatchesNumPyTableForEveryPair) {
  for (int a = 0; a < kNumScalars; ++a)
    for (int b = 0; b < kNumScalars; ++b) {
      SCOPED_TRACE(std::string(numpy_name(scalar(a))) + " with " +
                   std::string(numpy_name(scalar(b))));
      EXPECT_EQ(promote(strong(scalar(a)), strong(scalar(b))), strong(kTable[a][b]));
    }
}

TEST(Promote, WeakOperandFollowsNep50) {
  struct Case {
    const char* literal;
    Scalar weak_scalar;
    const Scalar* expected;
  };
  for (Case c : {Case{"1", I64, kWithWeakInt}, Case{"1.0", F64, kWithWeakFloat},
                 Case{"True", Bool, kWithWeakBool}})
    for (int a = 0; a < kNumScalars; ++a) {
      SCOPED_TRACE(std::string(numpy_name(scalar(a))) + " with " + c.literal);
      // The weak side may be on either side and the result is never weak.
      EXPECT_EQ(promote(strong(scalar(a)), weak(c.weak_scalar)), strong(c.expected[a]));
      EXPECT_EQ(promote(weak(c.weak_scalar), strong(scalar(a))), strong(c.expected[a]));
    }
}

TEST(Promote, TwoWeakOperandsStayWeak) {
  EXPECT_EQ(promote(weak(I64), weak(I64)), weak(I64));
  EXPECT_EQ(promote(weak(I64), weak(F64)), weak(F64));
  EXPECT_EQ(promote(weak(Bool), weak(I64)), weak(I64));
  EXPECT_EQ(promote(weak(Bool), weak(Bool)), weak(Bool));
}

TEST(Promote, ConcreteResolvesWeakTypes) {
  EXPECT_EQ(concrete(weak(I64)), strong(I64));
  EXPECT_EQ(concrete(weak(I32)), strong(I64));
  EXPECT_EQ(concrete(weak(F32)), strong(F64));
  EXPECT_EQ(concrete(weak(Bool)), strong(Bool));
  EXPECT_EQ(concrete(strong(U8)), strong(U8));
}

TEST(Types, FloatForDeviatesFromNumPyOnlyWhereNumPyGivesFloat16) {
  // NumPy computes math on bool/int8/uint8 in float16; ember has none yet.
  for (Scalar s : {Bool, I8, U8, I16, U16}) EXPECT_EQ(float_for(s), F32);
  for (Scalar s : {I32, I64, U32, U64, F64}) EXPECT_EQ(float_for(s), F64);
  EXPECT_EQ(float_for(F32), F32);
}

TEST(Types, NamesRoundTrip) {
  for (int i = 0; i < kNumScalars; ++i) {
    EXPECT_EQ(scalar_from_short_name(short_name(scalar(i))), scalar(i));
    EXPECT_EQ(scalar_from_numpy_name(numpy_name(scalar(i))), scalar(i));
  }
  EXPECT_EQ(scalar_from_short_name("f16"), std::nullopt);
  EXPECT_EQ(to_string(Type{F32, true, 0}), "f32?");
  EXPECT_EQ(to_string(Type{I64, false, 2}), "i64[2]");
}

}  // namespace
}  // namespace ember::ir
