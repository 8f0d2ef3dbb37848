// Printer and parser: exact format, round trips of every node kind, parse errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace ember::ir {
namespace {

Type strong(Scalar s) { return Type{s, false, 0}; }
Type weak(Scalar s) { return Type{s, true, 0}; }

// print(parse(print(f))) == print(f), with and without locations.
void expect_round_trip(const Function& fn) {
  for (bool locations : {false, true}) {
    SCOPED_TRACE(locations ? "with locations" : "without locations");
    std::string text = print(fn, locations);
    Function back = parse(text);
    EXPECT_EQ(print(back, locations), text);
    EXPECT_EQ(print(back, false), print(fn, false));
  }
}

// f(params...) -> concrete(value type) { return value }, at made-up locations.
Function returning(std::vector<Variable> params, ExprPtr value) {
  Function fn;
  fn.name = "f";
  fn.loc = {1, 0};
  fn.params = std::move(params);
  fn.result = concrete(value->type);
  fn.body = {make_return(value, {2, 4})};
  return fn;
}

// --- exact format --------------------------------------------------------------

// The example of printer.h, made through FunctionBuilder.
Function price() {
  FunctionBuilder b("price", "price.py", {1, 0});
  ExprPtr s = b.add_param("s", strong(Scalar::F64));
  ExprPtr k = b.add_param("k", weak(Scalar::F64));
  ExprPtr t = b.add_param("t", strong(Scalar::F64));
  ExprPtr ln = make_unary(Op::Log, make_binary(Op::Div, s, k));
  ExprPtr drift = make_binary(Op::Mul, make_float(0.02, weak(Scalar::F64)), t);
  b.assign("d", make_binary(Op::Div, make_binary(Op::Add, ln, drift), make_unary(Op::Sqrt, t)),
           {2, 4});
  b.begin_if(make_binary(Op::Gt, b.read_var("d", {3, 7}), make_int(0, weak(Scalar::I64))), {3, 4});
  b.ret(make_binary(Op::Mul, s, make_unary(Op::Exp, make_unary(Op::Neg, t))), {4, 8});
  b.begin_else();
  b.ret(make_binary(Op::Sub, k, s), {6, 8});
  b.end_if();
  return b.finish();
}

constexpr const char* kPrice =
    "func price(s: f64, k: f64?, t: f64) -> f64 {\n"
    "  var d: f64\n"
    "  d = div(add(log(div(s, k)), mul(0.02:f64?, t)), sqrt(t))\n"
    "  if gt(d, 0:i64?) {\n"
    "    return mul(s, exp(neg(t)))\n"
    "  } else {\n"
    "    return sub(k, s)\n"
    "  }\n"
    "}\n";

constexpr const char* kPriceWithLocations =
    "func price(s: f64, k: f64?, t: f64) -> f64 {  @1:0\n"
    "  var d: f64\n"
    "  d = div(add(log(div(s, k)), mul(0.02:f64?, t)), sqrt(t))  @2:4\n"
    "  if gt(d, 0:i64?) {  @3:4\n"
    "    return mul(s, exp(neg(t)))  @4:8\n"
    "  } else {\n"
    "    return sub(k, s)  @6:8\n"
    "  }\n"
    "}\n";

TEST(Printer, WritesTheDocumentedFormat) {
  EXPECT_EQ(print(price()), kPrice);
  EXPECT_EQ(print(price(), true), kPriceWithLocations);
}

TEST(Printer, PrintsOneExpression) {
  Function fn = price();
  EXPECT_EQ(print(*fn.body[0]->value, fn), "div(add(log(div(s, k)), mul(0.02:f64?, t)), sqrt(t))");
}

TEST(Parser, ReadsTheDocumentedFormat) {
  EXPECT_EQ(print(parse(kPrice)), kPrice);
  EXPECT_EQ(print(parse(kPriceWithLocations), true), kPriceWithLocations);
  EXPECT_EQ(print(parse(kPriceWithLocations)), kPrice);
  EXPECT_TRUE(verify(parse(kPrice), Level::Frontend).empty());
}

TEST(Parser, ExpressionsTakeTheLocationOfTheirStatement) {
  Function fn = parse(kPriceWithLocations);
  EXPECT_EQ(fn.loc, (Loc{1, 0}));
  const Stmt& assign = *fn.body[0];
  EXPECT_EQ(assign.loc, (Loc{2, 4}));
  EXPECT_EQ(assign.value->loc, (Loc{2, 4}));
  EXPECT_EQ(assign.value->args[1]->args[0]->loc, (Loc{2, 4}));
  EXPECT_EQ(fn.body[1]->else_body[0]->value->loc, (Loc{6, 8}));
}

TEST(Parser, ToleratesBlankLinesAndMissingFinalNewline) {
  EXPECT_EQ(print(parse("\n\nfunc f(x: i8) -> i8 {\n\n  return x\n}")),
            "func f(x: i8) -> i8 {\n  return x\n}\n");
}

// --- every operator ------------------------------------------------------------

struct OpCase {
  Op op;
  const char* name;
};

constexpr OpCase kUnaryOps[] = {
#define X(n, text) {Op::n, text},
    EMBER_UNARY_OPS(X)
#undef X
};

constexpr OpCase kBinaryOps[] = {
#define X(n, text) {Op::n, text},
    EMBER_BINARY_OPS(X)
#undef X
};

TEST(RoundTrip, EveryUnaryOperator) {
  std::vector<Variable> params = {{"a", strong(Scalar::I32)}};
  for (OpCase c : kUnaryOps) {
    SCOPED_TRACE(c.name);
    for (ExprPtr x : {make_param(0, strong(Scalar::I32)), make_int(-3, weak(Scalar::I64))}) {
      Function fn = returning(params, make_unary(c.op, x));
      EXPECT_NE(print(fn).find(std::string(c.name) + "("), std::string::npos);
      expect_round_trip(fn);
    }
  }
}

TEST(RoundTrip, EveryBinaryOperator) {
  std::vector<Variable> params = {{"a", strong(Scalar::I32)}, {"b", strong(Scalar::U8)}};
  ExprPtr a = make_param(0, strong(Scalar::I32)), b = make_param(1, strong(Scalar::U8));
  for (OpCase c : kBinaryOps) {
    SCOPED_TRACE(c.name);
    for (ExprPtr rhs : {b, make_int(2, weak(Scalar::I64))}) {
      Function fn = returning(params, make_binary(c.op, a, rhs));
      EXPECT_NE(print(fn).find(std::string(c.name) + "("), std::string::npos);
      expect_round_trip(fn);
      EXPECT_TRUE(verify(parse(print(fn)), Level::Frontend).empty());
    }
  }
}

// --- constants -----------------------------------------------------------------

struct ConstCase {
  Type type;
  Literal value;
  const char* text;
};

Literal int_value(int64_t i) { return Literal{i, 0.0}; }
Literal float_value(double f) { return Literal{0, f}; }

std::vector<ConstCase> const_cases() {
  using L = std::numeric_limits<double>;
  using LF = std::numeric_limits<float>;
  return {
      {strong(Scalar::Bool), int_value(1), "true:bool"},
      {strong(Scalar::Bool), int_value(0), "false:bool"},
      {weak(Scalar::Bool), int_value(1), "true:bool?"},
      {strong(Scalar::I8), int_value(-1), "-1:i8"},
      {strong(Scalar::I8), int_value(-128), "-128:i8"},
      {strong(Scalar::I16), int_value(32767), "32767:i16"},
      {strong(Scalar::I32), int_value(INT32_MIN), "-2147483648:i32"},
      {strong(Scalar::I64), int_value(INT64_MIN), "-9223372036854775808:i64"},
      {weak(Scalar::I64), int_value(3), "3:i64?"},
      {strong(Scalar::U8), int_value(255), "255:u8"},
      {strong(Scalar::U16), int_value(65535), "65535:u16"},
      {strong(Scalar::U32), int_value(UINT32_MAX), "4294967295:u32"},
      {strong(Scalar::U64), int_value(-1), "18446744073709551615:u64"},
      {strong(Scalar::F32), float_value(0.1f), "0.1:f32"},
      {strong(Scalar::F32), float_value(LF::max()), "3.4028235e+38:f32"},
      {strong(Scalar::F32), float_value(LF::denorm_min()), "1e-45:f32"},
      {strong(Scalar::F32), float_value(-LF::infinity()), "-inf:f32"},
      {strong(Scalar::F32), float_value(LF::quiet_NaN()), "nan:f32"},
      {strong(Scalar::F64), float_value(0.1), "0.1:f64"},
      {strong(Scalar::F64), float_value(1.0), "1.0:f64"},
      {strong(Scalar::F64), float_value(-250.0), "-250.0:f64"},
      {strong(Scalar::F64), float_value(1e20), "1e+20:f64"},
      {strong(Scalar::F64), float_value(L::denorm_min()), "5e-324:f64"},
      {strong(Scalar::F64), float_value(L::max()), "1.7976931348623157e+308:f64"},
      {strong(Scalar::F64), float_value(-0.0), "-0.0:f64"},
      {strong(Scalar::F64), float_value(L::infinity()), "inf:f64"},
      {strong(Scalar::F64), float_value(-L::infinity()), "-inf:f64"},
      {strong(Scalar::F64), float_value(L::quiet_NaN()), "nan:f64"},
      {strong(Scalar::F64), float_value(-L::quiet_NaN()), "-nan:f64"},
      {weak(Scalar::F64), float_value(2.5), "2.5:f64?"},
  };
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(RoundTrip, ConstantsOfEveryScalarType) {
  for (const ConstCase& c : const_cases()) {
    SCOPED_TRACE(c.text);
    Function fn = returning({}, make_const(c.type, c.value, {2, 11}));
    EXPECT_EQ(print(*fn.body[0]->value, fn), c.text);
    expect_round_trip(fn);
    Function parsed = parse(print(fn));  // kept alive: `back` points into it
    const Expr& back = *parsed.body[0]->value;
    EXPECT_EQ(back.type, c.type);
    EXPECT_EQ(back.value.i, c.value.i);
    EXPECT_TRUE(same_bits(back.value.f, c.value.f)) << back.value.f;
  }
}

// --- statements, casts, select, names -------------------------------------------

constexpr const char* kStatements =
    "func sink(x: f64, n: i32, a: f32[1], w: i64?) -> f64 {  @1:0\n"
    "  var t: f64\n"
    "  var c: bool\n"
    "  t = cast<f64>(n)  @2:4\n"
    "  c = lt(x, t)  @3:4\n"
    "  if c {  @4:4\n"
    "    if gt(n, 0:i64?) {  @5:8\n"
    "      t = select(c, x, 1.5:f64?)  @6:12\n"
    "    }\n"
    "    t = add(t, w)  @7:8\n"
    "  } else {\n"
    "    if isnan(x) {  @9:8\n"
    "      return x  @10:12\n"
    "    } else {\n"
    "      t = cast<f64>(select(cast<bool>(n), n, 3:i8))  @12:12\n"
    "    }\n"
    "  }\n"
    "  if ne(w, 1:i64?) {  @13:4\n"
    "  }\n"
    "  return t  @14:4\n"
    "}\n";

TEST(RoundTrip, AssignIfElseNestedIfCastSelectArrayAndWeakParams) {
  Function fn = parse(kStatements);
  EXPECT_EQ(print(fn, true), kStatements);
  expect_round_trip(fn);
  EXPECT_EQ(fn.params[2].type, (Type{Scalar::F32, false, 1}));
  EXPECT_EQ(fn.params[3].type, weak(Scalar::I64));
  const Stmt& outer = *fn.body[2];
  ASSERT_EQ(outer.kind, StmtKind::If);
  EXPECT_EQ(outer.then_body.size(), 2u);
  EXPECT_EQ(outer.else_body.size(), 1u);
  EXPECT_TRUE(outer.then_body[0]->else_body.empty());
  EXPECT_TRUE(fn.body[3]->then_body.empty());
  EXPECT_TRUE(verify(fn, Level::Frontend).empty());
}

// Parameter and variable names may be spelled like keywords, operators or
// literals: the parser tells them apart by what follows.
TEST(RoundTrip, NamesThatLookLikeKeywords) {
  Function fn;
  fn.name = "<lambda>";
  fn.params = {{"nan", strong(Scalar::F64)},    {"inf", strong(Scalar::F64)},
               {"true", strong(Scalar::Bool)},  {"cast", strong(Scalar::I32)},
               {"select", strong(Scalar::F64)}, {"func", strong(Scalar::F64)}};
  fn.locals = {{"var", strong(Scalar::F64)}, {"add", strong(Scalar::F64)}};
  fn.result = strong(Scalar::F64);
  auto p = [&](int i) { return make_param(i, fn.params[i].type); };
  ExprPtr var = make_var(0, fn.locals[0].type);
  fn.body = {
      make_assign(0, make_binary(Op::Add, p(0), p(1))),
      make_assign(1, make_cast(p(3), strong(Scalar::F64))),
      make_if(p(2), {make_return(make_select(p(2), var, p(4)))}, {}),
      make_return(make_binary(Op::Mul, p(5), make_float(NAN, strong(Scalar::F64)))),
  };
  EXPECT_EQ(print(fn),
            "func <lambda>(nan: f64, inf: f64, true: bool, cast: i32, select: f64, func: f64) "
            "-> f64 {\n"
            "  var var: f64\n"
            "  var add: f64\n"
            "  var = add(nan, inf)\n"
            "  add = cast<f64>(cast)\n"
            "  if true {\n"
            "    return select(true, var, select)\n"
            "  }\n"
            "  return mul(func, nan:f64)\n"
            "}\n");
  expect_round_trip(fn);
}

// Found by tests/fuzz/ir_text_fuzzer: a name with '@', ':' and NUL bytes
// parsed, and printed with locations did not parse back.
TEST(Parse, FunctionNamesAreIdentifiers) {
  const char text[] = "func f@-8\0\0:24a(x: f64) -> f64 {\n  return x\n}\n";
  EXPECT_THROW(parse(std::string(text, sizeof text - 1)), ParseError);
  EXPECT_THROW(parse("func a b(x: f64) -> f64 {\n  return x\n}\n"), ParseError);
  EXPECT_EQ(parse("func <lambda>(x: f64) -> f64 {\n  return x\n}\n").name, "<lambda>");
}

TEST(RoundTrip, BuilderMadeFunctions) {
  expect_round_trip(price());
  FunctionBuilder b("g", "g.py", {1, 0});
  ExprPtr x = b.add_param("x", strong(Scalar::U8));
  b.assign("y", make_binary(Op::Add, x, make_int(1, weak(Scalar::I64))), {2, 4});
  b.assign("y", make_int(7, weak(Scalar::I64)), {3, 4});  // cast to u8 by the builder
  b.ret(make_unary(Op::Sqrt, b.read_var("y", {4, 16})), {4, 4});
  expect_round_trip(b.finish());
}

// --- errors --------------------------------------------------------------------

std::string with_body(const std::string& body) {
  return "func f(x: f64, n: i32) -> f64 {\n  var y: f64\n" + body + "}\n";
}

TEST(Parser, RejectsMalformedText) {
  const std::string cases[] = {
      "",
      "fun f() -> f64 {\n  return 1.0:f64\n}\n",                    // not 'func'
      "func f(x: f65) -> f64 {\n  return x\n}\n",                   // bad type
      "func f(x: f64) -> f64\n  return x\n}\n",                     // missing '{'
      "func f(x: f64) -> f64 {\n  return x\n",                      // missing '}'
      "func f(x: f64, x: f64) -> f64 {\n  return x\n}\n",           // duplicate name
      "func f(x: f64) -> f64 {\n  return x\n}\nfunc",               // text after the function
      "func f(x: f64[0]) -> f64 {\n  return 1.0:f64\n}\n",          // bad ndim
      with_body("  return foo(x)\n"),                               // unknown operator
      with_body("  return const(x)\n"),                             // not an operator
      with_body("  return z\n"),                                    // unknown name
      with_body("  return x y\n"),                                  // trailing garbage
      with_body("  return add(x)\n"),                               // wrong arity
      with_body("  return add(x, x, x)\n"),                         // wrong arity
      with_body("  return add(x, n\n"),                             // missing ')'
      with_body("  return cast<f32(x)\n"),                          // missing '>'
      with_body("  return\n"),                                      // missing value
      with_body("  return 300:u8\n"),                               // out of range
      with_body("  return -1:u8\n"),                                // out of range
      with_body("  return 1.5:i32\n"),                              // not an integer
      with_body("  return 2:bool\n"),                               // not a bool
      with_body("  return abc:f64\n"),                              // not a float
      with_body("  return 1.0:f64[1]\n"),                           // array constant
      with_body("  return 1.0\n"),                                  // missing type
      with_body("  while x {\n  }\n  return x\n"),                  // unknown statement
      with_body("  x = 1.0:f64\n  return x\n"),                     // assigns a parameter
      with_body("  return x  @3\n"),                                // bad location
      with_body("  return x  @3:4:5\n"),                            // bad location
      with_body("  y = x\n  var z: f64\n  return x\n"),             // declaration too late
      with_body("  if x {\n    return x\n  } else\n  return x\n"),  // else without '{'
      with_body("  if x\n    return x\n  }\n"),                     // if without '{'
  };
  for (const std::string& text : cases) {
    SCOPED_TRACE(text);
    EXPECT_THROW(parse(text), ParseError);
  }
}

TEST(Parser, ErrorsPointAtLineAndColumn) {
  try {
    parse("func f(x: f64) -> f64 {\n  return y\n}\n");
    FAIL() << "no error";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.col, 10);
    EXPECT_NE(std::string(e.what()).find("line 2:10"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'y'"), std::string::npos) << e.what();
  }
}

TEST(Parser, TypingErrorsAreCompileErrors) {
  EXPECT_THROW(parse(with_body("  return neg(true:bool)\n")), CompileError);
  EXPECT_THROW(parse(with_body("  return and(x, n)\n")), CompileError);
}

}  // namespace
}  // namespace ember::ir

namespace ember::ir {
namespace {

// Every kernel node kind: array parameters, load/shape/tid, store, atomics,
// for, while, break, continue and a bare return.
constexpr const char* kKernel = R"(kernel hist(counts: i64[2], x: f64[1], n: i64) over 2 {
  var i: i64
  var k: i64
  var b: i64
  i = tid<0>()
  for k in range(0:i64, shape<0>(x), 2:i64) {
    if lt(load(x, k), 0.0:f64) {
      continue
    }
    b = cast<i64>(mul(load(x, k), 4.0:f64))
    while gt(b, n) {
      b = sub(b, 1:i64)
      break
    }
    atomic_add(counts, i, b) = 1:i64
    atomic_max(counts, tid<1>(), 0:i64) = b
  }
  store(counts, i, 0:i64) = add(load(counts, i, 0:i64), k)
  return
}
)";

TEST(RoundTrip, KernelStatementsAndExpressions) {
  Function fn = parse(kKernel);
  EXPECT_EQ(fn.domain, 2);
  EXPECT_EQ(print(fn), kKernel);
  expect_round_trip(fn);
}

TEST(Parser, RejectsKernelStatementsInAScalarFunction) {
  for (const char* stmt : {"break", "continue", "store(x) = x", "while true:bool {\n  }"}) {
    std::string text = std::string("func f(x: f64) -> f64 {\n  ") + stmt + "\n  return x\n}\n";
    EXPECT_THROW(parse(text), ParseError) << text;
  }
  EXPECT_THROW(parse("kernel k(x: f64[1]) over 4 {\n}\n"), ParseError);
  EXPECT_THROW(parse("kernel k(x: f64[1]) over 1 {\n  store(x, 0:i64, 1:i64) = 1.0:f64\n}\n"),
               CompileError);  // a 1-d array takes one index
}

}  // namespace
}  // namespace ember::ir
