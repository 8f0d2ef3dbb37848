// Verifier: each rule rejects IR built by hand to break it; builder-made IR passes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/parser.h"
#include "ir/verifier.h"

namespace ember::ir {
namespace {

Type strong(Scalar s) { return Type{s, false, 0}; }
Type weak(Scalar s) { return Type{s, true, 0}; }
const Type kBool = strong(Scalar::Bool), kI32 = strong(Scalar::I32), kF32 = strong(Scalar::F32),
           kF64 = strong(Scalar::F64);

// Nodes the builder would refuse to make: only tests construct them.
ExprPtr raw(Op op, Type t, std::vector<ExprPtr> args = {}, int index = 0, Literal value = {}) {
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->type = t;
  e->loc = {5, 7};
  e->args = std::move(args);
  e->index = index;
  e->value = value;
  return e;
}

StmtPtr raw_if(ExprPtr cond, Block then_body) {
  auto s = std::make_shared<Stmt>();
  s->kind = StmtKind::If;
  s->loc = {4, 2};
  s->value = std::move(cond);
  s->then_body = std::move(then_body);
  return s;
}

// f(x: f64, n: i32, c: bool) with one local `v: i64`.
Function with_body(Block body, Type result = strong(Scalar::F64)) {
  Function fn;
  fn.name = "f";
  fn.loc = {1, 0};
  fn.params = {{"x", kF64}, {"n", kI32}, {"c", kBool}};
  fn.locals = {{"v", strong(Scalar::I64)}};
  fn.result = result;
  fn.body = std::move(body);
  return fn;
}

ExprPtr x() { return make_param(0, kF64); }
ExprPtr n() { return make_param(1, kI32); }
ExprPtr c() { return make_param(2, kBool); }

// Exactly one violation, which contains `part`.
void expect_violation(const Function& fn, Level level, const std::string& part) {
  std::vector<std::string> problems = verify(fn, level);
  ASSERT_EQ(problems.size(), 1u) << (problems.empty() ? "none" : problems[0]);
  EXPECT_NE(problems[0].find(part), std::string::npos) << problems[0];
}

void expect_frontend_violation(Block body, const std::string& part,
                               Type result = strong(Scalar::F64)) {
  expect_violation(with_body(std::move(body), result), Level::Frontend, part);
}

// --- Frontend level ------------------------------------------------------------

TEST(Verifier, NodeTypeMustBeWhatTheBuilderComputes) {
  ExprPtr f32 = make_cast(x(), kF32);
  ExprPtr wrong = raw(Op::Add, kF64, {f32, f32});
  expect_frontend_violation({make_return(wrong)}, "'add' has type f64, builder.h gives f32");
}

TEST(Verifier, MessagesStartWithTheLocation) {
  std::vector<std::string> problems =
      verify(with_body({make_return(raw(Op::Neg, kF32, {x()}))}), Level::Frontend);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("5:7: ", 0), 0u) << problems[0];
}

TEST(Verifier, NodeTheBuilderRejects) {
  ExprPtr bad = raw(Op::Sub, kBool, {c(), c()});
  expect_frontend_violation({make_return(make_cast(bad, kF64))}, "'-' is not supported");
}

TEST(Verifier, OperandCountAndNullOperands) {
  expect_frontend_violation({make_return(raw(Op::Add, kF64, {x()}))},
                            "'add' has 1 operands, not 2");
  expect_frontend_violation({make_return(raw(Op::Sqrt, kF64, {nullptr}))}, "null operand");
}

TEST(Verifier, ParamIndexAndType) {
  expect_frontend_violation({make_return(raw(Op::Param, kF64, {}, 3))},
                            "parameter index 3 out of range");
  expect_frontend_violation({make_return(make_param(1, kF64))},
                            "'param' has type f64, builder.h gives i32");
}

TEST(Verifier, VarIndexAndType) {
  StmtPtr init = make_assign(0, make_int(0, strong(Scalar::I64)));
  expect_frontend_violation({init, make_return(make_var(-1, kF64))},
                            "local variable index -1 out of range");
  expect_frontend_violation({init, make_return(make_var(0, kF64))},
                            "'var' has type f64, builder.h gives i64");
}

TEST(Verifier, ConstantMustBeNormalized) {
  Literal big{300, 0.0};
  expect_frontend_violation({make_return(raw(Op::Const, strong(Scalar::U8), {}, 0, big))},
                            "does not fit its type u8");
}

TEST(Verifier, AssignedValueMustHaveTheVariableType) {
  expect_frontend_violation({make_assign(0, n()), make_return(x())},
                            "value of type i32 assigned to local 'v' of type i64");
  expect_frontend_violation({make_assign(1, x()), make_return(x())},
                            "assignment to local variable 1");
  // A weak int is concrete()-equal to int64: fine as built.
  EXPECT_TRUE(verify(with_body({make_assign(0, make_int(1, weak(Scalar::I64))), make_return(x())}),
                     Level::Frontend)
                  .empty());
}

TEST(Verifier, ConditionsMustBeBool) {
  expect_frontend_violation({raw_if(x(), {}), make_return(x())}, "'if' condition has type f64");
  expect_frontend_violation({make_return(raw(Op::Select, kF64, {x(), x(), x()}))},
                            "'select' condition has type f64");
}

TEST(Verifier, EveryPathMustReturn) {
  expect_frontend_violation({make_if(c(), {make_return(x())}, {})},
                            "'f' does not return on every path");
}

TEST(Verifier, ReturnedValuesMustPromoteToTheResult) {
  expect_frontend_violation({make_return(x())}, "does not promote to the result type i32", kI32);
  // u8 promotes into i16: accepted as built.
  Function fn = with_body({make_return(make_cast(n(), strong(Scalar::U8)))}, strong(Scalar::I16));
  EXPECT_TRUE(verify(fn, Level::Frontend).empty());
}

TEST(Verifier, AcceptsBuilderMadeIr) {
  FunctionBuilder b("g", "g.py", {1, 0});
  ExprPtr p = b.add_param("p", strong(Scalar::U8));
  ExprPtr q = b.add_param("q", weak(Scalar::F64));
  b.assign("s", make_binary(Op::Add, p, make_int(1, weak(Scalar::I64))), {2, 0});
  b.assign("s", make_int(2, weak(Scalar::I64)), {3, 0});
  b.begin_if(make_binary(Op::Gt, b.read_var("s", {4, 3}), p), {4, 0});
  b.ret(make_select(p, q, make_unary(Op::Sqrt, p)), {5, 4});
  b.begin_else();
  b.ret(make_binary(Op::Div, p, p), {7, 4});
  b.end_if();
  Function fn = b.finish();
  EXPECT_TRUE(verify(fn, Level::Frontend).empty());
  // As built it keeps weak types and implicit conversions: not Strict.
  EXPECT_FALSE(verify(fn, Level::Strict).empty());
}

// --- Strict level --------------------------------------------------------------

// Strict IR as the `promote` pass leaves it.
constexpr const char* kStrict =
    "func h(x: f32, n: i32, c: bool) -> f32 {\n"
    "  var t: f32\n"
    "  t = add(x, cast<f32>(n))\n"
    "  if lt(n, 0:i32) {\n"
    "    return select(c, neg(t), sqrt(x))\n"
    "  }\n"
    "  if not(isnan(t)) {\n"
    "    t = div(t, 2.0:f32)\n"
    "  }\n"
    "  return t\n"
    "}\n";

TEST(Verifier, AcceptsStrictIr) {
  Function fn = parse(kStrict);
  EXPECT_TRUE(verify(fn, Level::Frontend).empty());
  EXPECT_TRUE(verify(fn, Level::Strict).empty());
}

void expect_strict_violation(Block body, const std::string& part, Type result = kF64) {
  Function fn = with_body(std::move(body), result);
  EXPECT_TRUE(verify(fn, Level::Frontend).empty());
  expect_violation(fn, Level::Strict, part);
}

TEST(Verifier, StrictRejectsWeakNodes) {
  // Any use of the weak value but a cast would also break another rule.
  ExprPtr one = make_float(1.0, weak(Scalar::F64));
  expect_strict_violation({make_return(make_cast(one, kF64))}, "'const' has weak type f64?");
}

TEST(Verifier, StrictRejectsWeakDeclarations) {
  Function fn = with_body({make_return(x())});
  fn.params[1].type = weak(Scalar::I64);
  expect_violation(fn, Level::Strict, "parameter 'n' has weak type i64?");
  fn = with_body({make_return(x())});
  fn.locals[0].type = weak(Scalar::I64);
  expect_violation(fn, Level::Strict, "local 'v' has weak type");
}

// Found by tests/fuzz/ir_text_fuzzer: a weak local passed the Frontend level
// and promote (which keeps locals as they are) then made invalid IR.
TEST(Verifier, LocalsAreNeverWeak) {
  Function fn = with_body({make_return(x())});
  fn.locals[0].type = weak(Scalar::F64);
  expect_violation(fn, Level::Frontend, "local 'v' has weak type f64? (locals are never weak)");
}

TEST(Verifier, StrictBinaryOperandsMustAgree) {
  expect_strict_violation({make_return(make_binary(Op::Mul, x(), make_cast(x(), kF32)))},
                          "operands of 'mul' differ: f64 and f32");
  expect_strict_violation(
      {make_if(make_binary(Op::Lt, x(), n()), {make_return(x())}, {}), make_return(x())},
      "operands of 'lt' differ");
}

TEST(Verifier, StrictBinaryResultMustBeTheOperandType) {
  expect_strict_violation({make_return(make_binary(Op::Div, n(), n()))},
                          "'div' has type f64 but operands of type i32");
  // Comparisons give bool whatever their operands.
  Function fn =
      with_body({make_if(make_binary(Op::Ge, n(), n()), {make_return(x())}, {}), make_return(x())});
  EXPECT_TRUE(verify(fn, Level::Strict).empty());
}

TEST(Verifier, StrictUnaryResultMustBeTheOperandType) {
  expect_strict_violation({make_return(make_unary(Op::Sqrt, n()))},
                          "'sqrt' has type f64 but an operand of type i32");
  // not/isnan/isinf/isfinite/signbit give bool.
  Block body;
  for (Op op : {Op::Not, Op::IsNan, Op::IsInf, Op::IsFinite, Op::SignBit})
    body.push_back(make_if(make_unary(op, x()), {}, {}));
  body.push_back(make_return(x()));
  EXPECT_TRUE(verify(with_body(body), Level::Strict).empty());
}

TEST(Verifier, StrictSelectArmsMustHaveTheSelectType) {
  expect_strict_violation({make_return(make_select(c(), x(), make_cast(x(), kF32)))},
                          "'select' arm of type f32 differs from its type f64");
}

TEST(Verifier, StrictReturnMustHaveTheResultTypeExactly) {
  expect_strict_violation({make_return(make_cast(x(), kF32))},
                          "returned value of type f32 is not the result type f64");
}

TEST(Verifier, StrictAssignMustHaveTheVariableTypeExactly) {
  Function fn = with_body({make_assign(0, make_int(1, weak(Scalar::I64))), make_return(x())});
  std::vector<std::string> problems = verify(fn, Level::Strict);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("weak"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("assigned to local 'v'"), std::string::npos) << problems[1];
}

}  // namespace
}  // namespace ember::ir
