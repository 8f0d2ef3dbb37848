// Invariants of the checked constructors and of FunctionBuilder (ir/builder.h).
#include <gtest/gtest.h>

#include <string>

#include "ir/builder.h"

namespace ember::ir {
namespace {

Type strong(Scalar s) { return Type{s, false, 0}; }
Type weak(Scalar s) { return Type{s, true, 0}; }
ExprPtr param(Scalar s) { return make_param(0, strong(s)); }
ExprPtr weak_int(int64_t v) { return make_int(v, weak(Scalar::I64)); }
ExprPtr weak_float(double v) { return make_float(v, weak(Scalar::F64)); }

// The CompileError message of `f`, or "" when it does not throw.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const CompileError& e) {
    return e.what();
  }
  return "";
}

TEST(Builder, BinaryResultTypesFollowPromotion) {
  struct Case {
    Op op;
    ExprPtr a, b;
    Type want;
  };
  Case cases[] = {
      {Op::Add, param(Scalar::U8), weak_int(1), strong(Scalar::U8)},
      {Op::Add, param(Scalar::I8), param(Scalar::U8), strong(Scalar::I16)},
      {Op::Add, param(Scalar::I64), param(Scalar::U64), strong(Scalar::F64)},
      {Op::Mul, param(Scalar::F32), weak_float(2.0), strong(Scalar::F32)},
      {Op::Div, param(Scalar::I32), param(Scalar::I32), strong(Scalar::F64)},
      {Op::Div, param(Scalar::I8), param(Scalar::I8), strong(Scalar::F64)},  // true division
      {Op::Add, param(Scalar::Bool), param(Scalar::Bool), strong(Scalar::Bool)},
      {Op::Add, weak_int(1), weak_float(2.0), weak(Scalar::F64)},
      {Op::Lt, param(Scalar::F32), param(Scalar::I64), strong(Scalar::Bool)},
      {Op::FloorDiv, param(Scalar::Bool), param(Scalar::Bool), strong(Scalar::I8)},
      {Op::Shl, param(Scalar::Bool), param(Scalar::Bool), strong(Scalar::I8)},
      {Op::BitAnd, param(Scalar::Bool), param(Scalar::Bool), strong(Scalar::Bool)},
      {Op::Atan2, param(Scalar::I16), param(Scalar::I16), strong(Scalar::F32)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(op_name(c.op)) + "(" + to_string(c.a->type) + ", " +
                 to_string(c.b->type) + ")");
    ExprPtr e = make_binary(c.op, c.a, c.b);
    EXPECT_EQ(e->type, c.want);
    EXPECT_EQ(e->args.size(), 2u);
  }
}

TEST(Builder, UnaryResultTypes) {
  EXPECT_EQ(make_unary(Op::Sqrt, param(Scalar::I32))->type, strong(Scalar::F64));
  EXPECT_EQ(make_unary(Op::Sqrt, param(Scalar::U8))->type, strong(Scalar::F32));
  EXPECT_EQ(make_unary(Op::Exp, weak_int(1))->type, weak(Scalar::F64));
  EXPECT_EQ(make_unary(Op::Neg, param(Scalar::U16))->type, strong(Scalar::U16));
  EXPECT_EQ(make_unary(Op::IsNan, param(Scalar::F32))->type, strong(Scalar::Bool));
  EXPECT_EQ(make_unary(Op::Not, param(Scalar::I64))->type, strong(Scalar::Bool));
  EXPECT_EQ(make_unary(Op::Floor, param(Scalar::I32))->type, strong(Scalar::I32));
}

TEST(Builder, RejectsUnsupportedCombinations) {
  EXPECT_THROW(make_binary(Op::Sub, param(Scalar::Bool), param(Scalar::Bool)), CompileError);
  EXPECT_THROW(make_unary(Op::Neg, param(Scalar::Bool)), CompileError);
  EXPECT_THROW(make_unary(Op::Invert, param(Scalar::F64)), CompileError);
  std::string msg =
      error_of([] { make_binary(Op::BitAnd, param(Scalar::F32), param(Scalar::I32)); });
  EXPECT_NE(msg.find("'&'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
  msg = error_of([] { make_binary(Op::Shr, param(Scalar::F64), weak_int(1)); });
  EXPECT_NE(msg.find("'>>'"), std::string::npos) << msg;
}

TEST(Builder, ErrorsCarryTheirLocation) {
  try {
    make_unary(Op::Neg, param(Scalar::Bool), Loc{7, 3});
    FAIL() << "no error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.loc, (Loc{7, 3}));
  }
}

TEST(Builder, ArraysAreNotScalarOperands) {
  ExprPtr arr = make_param(0, Type{Scalar::F64, false, 1});
  EXPECT_THROW(make_binary(Op::Add, arr, weak_int(1)), CompileError);
  EXPECT_THROW(make_const(Type{Scalar::F64, false, 1}, Literal{}), CompileError);
}

TEST(Builder, ConstantsAreNormalizedToTheirType) {
  EXPECT_EQ(make_int(300, strong(Scalar::U8))->value.i, 44);
  EXPECT_EQ(make_int(-1, strong(Scalar::U16))->value.i, 65535);
  EXPECT_EQ(make_int(128, strong(Scalar::I8))->value.i, -128);
  EXPECT_EQ(make_int(5, strong(Scalar::Bool))->value.i, 1);
  EXPECT_EQ(make_float(0.1, strong(Scalar::F32))->value.f, static_cast<double>(0.1f));
}

TEST(Builder, SelectAndIfTurnConditionsIntoBool) {
  ExprPtr s = make_select(param(Scalar::I32), weak_int(1), param(Scalar::F32));
  EXPECT_EQ(s->type, strong(Scalar::F32));
  EXPECT_EQ(s->args[0]->op, Op::Cast);
  EXPECT_EQ(s->args[0]->type, strong(Scalar::Bool));
  StmtPtr i = make_if(param(Scalar::F64), {make_return(param(Scalar::F64))}, {});
  EXPECT_EQ(i->value->type, strong(Scalar::Bool));
  ExprPtr b = param(Scalar::Bool);
  EXPECT_EQ(make_truth(b), b);  // already bool: no cast
}

TEST(Builder, AlwaysReturns) {
  ExprPtr c = param(Scalar::Bool);
  StmtPtr ret = make_return(weak_int(0));
  EXPECT_TRUE(always_returns({ret}));
  EXPECT_FALSE(always_returns({}));
  EXPECT_FALSE(always_returns({make_if(c, {ret}, {})}));
  EXPECT_TRUE(always_returns({make_if(c, {ret}, {ret})}));
  EXPECT_TRUE(always_returns({make_if(c, {ret}, {}), ret}));
}

// --- FunctionBuilder ---------------------------------------------------------

TEST(FunctionBuilder, BuildsParamsLocalsAndResult) {
  FunctionBuilder b("f", "f.py", {1, 0});
  ExprPtr x = b.add_param("x", strong(Scalar::F32), {1, 6});
  b.assign("y", make_binary(Op::Mul, x, weak_float(2.0)), {2, 4});
  b.ret(b.read_var("y", {3, 11}), {3, 4});
  Function fn = b.finish();
  EXPECT_EQ(fn.name, "f");
  EXPECT_EQ(fn.file, "f.py");
  ASSERT_EQ(fn.params.size(), 1u);
  ASSERT_EQ(fn.locals.size(), 1u);
  EXPECT_EQ(fn.locals[0].name, "y");
  EXPECT_EQ(fn.locals[0].type, strong(Scalar::F32));
  EXPECT_EQ(fn.result, strong(Scalar::F32));
  ASSERT_EQ(fn.body.size(), 2u);
  EXPECT_EQ(fn.body[1]->value->loc, (Loc{3, 11}));
}

TEST(FunctionBuilder, VariableChangingTypeThrowsNamingIt) {
  FunctionBuilder b("f", "f.py", {});
  ExprPtr x = b.add_param("x", strong(Scalar::F32));
  b.assign("acc", x, {2, 0});
  std::string msg = error_of([&] { b.assign("acc", make_param(0, strong(Scalar::I64)), {3, 0}); });
  EXPECT_NE(msg.find("'acc'"), std::string::npos) << msg;
  // A weak float does not fit an integer variable either.
  b.assign("n", weak_int(0), {4, 0});
  EXPECT_THROW(b.assign("n", weak_float(0.5), {5, 0}), CompileError);
}

TEST(FunctionBuilder, WeakLiteralAssignedToFloatVariableIsCast) {
  FunctionBuilder b("f", "f.py", {});
  b.assign("v", b.add_param("x", strong(Scalar::F32)), {2, 0});
  b.assign("v", weak_int(1), {3, 0});
  b.ret(b.read_var("v", {4, 7}), {4, 0});
  Function fn = b.finish();
  const Expr& value = *fn.body[1]->value;
  EXPECT_EQ(value.op, Op::Cast);
  EXPECT_EQ(value.type, strong(Scalar::F32));
  EXPECT_EQ(value.args[0]->type, weak(Scalar::I64));
}

TEST(FunctionBuilder, MissingReturnThrows) {
  FunctionBuilder b("f", "f.py", {1, 0});
  ExprPtr x = b.add_param("x", strong(Scalar::F64));
  b.begin_if(make_binary(Op::Gt, x, weak_int(0)), {2, 0});
  b.ret(x, {3, 4});
  b.end_if();
  std::string msg = error_of([&] { b.finish(); });
  EXPECT_NE(msg.find("'f'"), std::string::npos) << msg;
}

TEST(FunctionBuilder, ReadBeforeAssignThrows) {
  FunctionBuilder b("f", "f.py", {});
  std::string msg = error_of([&] { b.read_var("t", {2, 4}); });
  EXPECT_NE(msg.find("'t'"), std::string::npos) << msg;
  EXPECT_FALSE(b.has_var("t"));
}

TEST(FunctionBuilder, ResultPromotesAcrossReturns) {
  FunctionBuilder b("f", "f.py", {});
  ExprPtr x = b.add_param("x", strong(Scalar::U8));
  ExprPtr y = b.add_param("y", strong(Scalar::I8));
  b.begin_if(make_binary(Op::Gt, x, weak_int(3)), {2, 0});
  b.ret(x, {3, 0});
  b.begin_else();
  b.ret(y, {5, 0});
  b.end_if();
  Function fn = b.finish();
  EXPECT_EQ(fn.result, strong(Scalar::I16));
  ASSERT_EQ(fn.body.size(), 1u);
  EXPECT_EQ(fn.body[0]->then_body.size(), 1u);
  EXPECT_EQ(fn.body[0]->else_body.size(), 1u);
}

TEST(FunctionBuilder, WeakReturnsBecomeConcrete) {
  FunctionBuilder b("f", "f.py", {});
  b.ret(make_binary(Op::Add, weak_int(1), weak_float(0.5)), {2, 0});
  EXPECT_EQ(b.finish().result, strong(Scalar::F64));
}

}  // namespace
}  // namespace ember::ir
