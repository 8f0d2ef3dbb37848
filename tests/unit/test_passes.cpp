// Pass tests: golden files (tests/golden/<pass>/<case>.ir -> .expected) and
// random programs checked against the reference interpreter.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/passes.h"
#include "compiler/pipeline.h"
#include "ir/builder.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace ember {
namespace {

namespace fs = std::filesystem;
using ir::ExprPtr;
using ir::Function;
using ir::Literal;
using ir::Scalar;
using ir::Type;

// --- helpers -------------------------------------------------------------------

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += "\n  " + l;
  return s;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string line; std::getline(s, line);) out.push_back(line);
  return out;
}

// Line by line, "-" expected and "+" actual: enough for files this small.
std::string diff(const std::string& expected, const std::string& actual) {
  std::vector<std::string> e = split_lines(expected), a = split_lines(actual);
  std::string out = "--- expected\n+++ actual\n";
  for (size_t i = 0; i < std::max(e.size(), a.size()); ++i) {
    bool has_e = i < e.size(), has_a = i < a.size();
    if (has_e && has_a && e[i] == a[i]) {
      out += "  " + e[i] + "\n";
      continue;
    }
    if (has_e) out += "- " + e[i] + "\n";
    if (has_a) out += "+ " + a[i] + "\n";
  }
  return out;
}

const compiler::Pass& pass_named(const std::string& name) {
  for (const compiler::Pass& p : compiler::passes())
    if (name == p.name) return p;
  throw std::invalid_argument("no pass named " + name);
}

// Bitwise equality of two results of type `t`; any NaN equals any NaN.
bool same_result(Literal a, Literal b, Type t) {
  if (t.scalar == Scalar::F32) {
    float x = static_cast<float>(a.f), y = static_cast<float>(b.f);
    return (std::isnan(x) && std::isnan(y)) ||
           std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y);
  }
  if (t.scalar == Scalar::F64)
    return (std::isnan(a.f) && std::isnan(b.f)) ||
           std::bit_cast<uint64_t>(a.f) == std::bit_cast<uint64_t>(b.f);
  return a.i == b.i;
}

std::string show(Literal v, Type t) {
  return ir::is_float(t.scalar) ? std::to_string(v.f) : std::to_string(v.i);
}

// Values that find edge cases (zeros of both signs, extremes, NaN) more often than uniform draws.
Literal random_literal(std::mt19937_64& rng, Scalar s) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  static const int64_t kInts[] = {0,   1,    -1,  2,   3,    7,      -8,   100,
                                  127, -128, 255, 256, 1000, -70000, kMin, kMax};
  static const double kFloats[] = {0.0,   -0.0, 1.0,   -1.0,  0.5,  2.0,   2.5,
                                   -3.75, 1e10, -1e-3, 1e300, kInf, -kInf, kNan};
  Literal v;
  if (rng() % 4 == 0) {
    v.i = static_cast<int64_t>(rng()) >> (rng() % 64);
    v.f = std::ldexp(static_cast<double>(static_cast<int64_t>(rng() >> 11)) / 0x1p52,
                     rng() % 40 - 20);
  } else {
    v.i = kInts[rng() % std::size(kInts)];
    v.f = kFloats[rng() % std::size(kFloats)];
  }
  return ir::normalize(v, Type{s});
}

std::vector<Literal> random_args(std::mt19937_64& rng, const Function& fn) {
  std::vector<Literal> args;
  for (const ir::Variable& p : fn.params)
    args.push_back(random_literal(rng, ir::concrete(p.type).scalar));
  return args;
}

// Runs `before` and `after` (both Strict) on the same random arguments.
void expect_same_results(const Function& before, const Function& after, int trials, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int t = 0; t < trials; ++t) {
    std::vector<Literal> args = random_args(rng, before);
    Literal want = ir::interpret(before, args), got = ir::interpret(after, args);
    if (!same_result(want, got, before.result)) {
      ADD_FAILURE() << "results differ (" << show(want, before.result) << " vs "
                    << show(got, after.result) << ")\nbefore:\n"
                    << ir::print(before) << "after:\n"
                    << ir::print(after);
      return;
    }
  }
}

// --- golden files --------------------------------------------------------------

struct GoldenCase {
  std::string pass;
  fs::path input;
};

std::vector<GoldenCase> golden_cases() {
  std::vector<GoldenCase> out;
  for (const compiler::Pass& p : compiler::passes()) {
    fs::path dir = fs::path(EMBER_GOLDEN_DIR) / p.name;
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const fs::directory_entry& f : fs::directory_iterator(dir))
      if (f.path().extension() == ".ir") files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) out.push_back({p.name, f});
  }
  return out;
}

std::string case_name(const testing::TestParamInfo<GoldenCase>& info) {
  std::string name = info.param.pass + "_" + info.param.input.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

bool update_golden() {
  const char* v = std::getenv("UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.input; }

class Golden : public testing::TestWithParam<GoldenCase> {};

// promote reads frontend IR; every other pass reads and writes Strict IR.
TEST_P(Golden, MatchesExpected) {
  const GoldenCase& c = GetParam();
  Function in = ir::parse(read_text(c.input));
  ir::Level in_level = c.pass == "promote" ? ir::Level::Frontend : ir::Level::Strict;
  std::vector<std::string> problems = ir::verify(in, in_level);
  ASSERT_TRUE(problems.empty()) << c.input << " does not verify:" << joined(problems);

  Function out = pass_named(c.pass).run(in);
  problems = ir::verify(out, ir::Level::Strict);
  EXPECT_TRUE(problems.empty()) << "output of " << c.pass
                                << " does not verify:" << joined(problems);
  std::string actual = ir::print(out);

  fs::path expected_path = fs::path(c.input).replace_extension(".expected");
  if (update_golden()) {
    std::ofstream(expected_path) << actual;
    GTEST_SKIP() << "UPDATE_GOLDEN=1: rewrote " << expected_path;
  }
  ASSERT_TRUE(fs::exists(expected_path))
      << "missing " << expected_path << " (UPDATE_GOLDEN=1 writes it; review before committing)";
  std::string expected = read_text(expected_path);
  EXPECT_EQ(expected, actual) << c.pass << " on " << c.input << ":\n" << diff(expected, actual);
  EXPECT_EQ(ir::print(ir::parse(actual)), actual) << "output does not read back to itself";
  if (c.pass != "promote") expect_same_results(in, out, 200, 1);
}

INSTANTIATE_TEST_SUITE_P(Passes, Golden, testing::ValuesIn(golden_cases()), case_name);

TEST(GoldenFiles, EveryPassHasCases) {
  std::map<std::string, int> count;
  for (const GoldenCase& c : golden_cases()) ++count[c.pass];
  for (const compiler::Pass& p : compiler::passes())
    EXPECT_GE(count[p.name], 4) << "few golden cases for " << p.name << " under "
                                << EMBER_GOLDEN_DIR;
}

// The whole pipeline on every frontend-level golden input: Strict output that
// computes what the merely promoted function computes.
TEST(Pipeline, OutputVerifiesAndKeepsResults) {
  for (const GoldenCase& c : golden_cases()) {
    if (c.pass != "promote") continue;
    SCOPED_TRACE(c.input.string());
    Function in = ir::parse(read_text(c.input));
    Function out = compiler::optimize(in);
    std::vector<std::string> problems = ir::verify(out, ir::Level::Strict);
    EXPECT_TRUE(problems.empty()) << joined(problems) << "\n" << ir::print(out);
    expect_same_results(compiler::promote(in), out, 200, 2);
  }
}

// --- random programs -----------------------------------------------------------

// Random frontend programs made through the builder: operands of random types,
// weak and strong, so that promote sees every kind of pairing.
class RandomProgram {
 public:
  explicit RandomProgram(uint64_t seed) : rng_(seed) {}

  Function make(int n_params, int n_locals) {
    ir::FunctionBuilder fb("f", "random.py", {1, 0});
    leaves_.clear();
    made_.clear();
    for (int i = 0; i < n_params; ++i)
      leaves_.push_back(fb.add_param("p" + std::to_string(i), random_type(true)));
    for (int i = 0; i < n_locals; ++i) {
      std::string name = "v" + std::to_string(i);
      fb.assign(name, expr(3), {i + 2, 0});
      leaves_.push_back(fb.read_var(name, {i + 2, 4}));
    }
    if (rng_() % 2) {
      fb.begin_if(expr(2), {20, 0});
      fb.ret(expr(3), {21, 0});
      fb.end_if();
    }
    fb.ret(expr(3), {30, 0});
    return fb.finish();
  }

 private:
  Type random_type(bool allow_weak) {
    Scalar s = static_cast<Scalar>(rng_() % ir::kNumScalars);
    // Python scalars are weak: only bool, int64 and float64 come that way.
    if (allow_weak && rng_() % 3 == 0) {
      static const Scalar kWeak[] = {Scalar::Bool, Scalar::I64, Scalar::F64};
      return Type{kWeak[rng_() % 3], true};
    }
    return Type{s};
  }

  // Earlier subtrees come back now and then, so that cse and the x-op-x rules
  // of simplify find something to do.
  ExprPtr leaf() {
    if (!made_.empty() && rng_() % 4 == 0) return made_[rng_() % made_.size()];
    if (!leaves_.empty() && rng_() % 2) return leaves_[rng_() % leaves_.size()];
    Type t = random_type(true);
    return ir::make_const(t, random_literal(rng_, t.scalar));
  }

  ExprPtr expr(int depth) {
    if (depth == 0 || rng_() % 5 == 0) return leaf();
    ExprPtr e = node(depth);
    made_.push_back(e);
    return e;
  }

  ExprPtr node(int depth) {
    for (;;) {
      try {
        switch (rng_() % 6) {
          case 0:
          case 1: return ir::make_unary(random_op(ir::is_unary), expr(depth - 1));
          case 2:
          case 3:
            return ir::make_binary(random_op(ir::is_binary), expr(depth - 1), expr(depth - 1));
          case 4: return ir::make_select(expr(depth - 1), expr(depth - 1), expr(depth - 1));
          default: return ir::make_cast(expr(depth - 1), random_type(false));
        }
      } catch (const ir::CompileError&) {
        // An unsupported combination (bool - bool, float << int...): draw again.
      }
    }
  }

  ir::Op random_op(bool (*accept)(ir::Op)) {
    for (;;) {
      auto op = static_cast<ir::Op>(
          static_cast<int>(ir::Op::Neg) +
          rng_() % (static_cast<int>(ir::Op::Ge) - static_cast<int>(ir::Op::Neg) + 1));
      if (accept(op)) return op;
    }
  }

  std::mt19937_64 rng_;
  std::vector<ExprPtr> leaves_;
  std::vector<ExprPtr> made_;
};

Function strict(const Function& frontend) {
  std::vector<std::string> problems = ir::verify(frontend, ir::Level::Frontend);
  EXPECT_TRUE(problems.empty()) << joined(problems) << "\n" << ir::print(frontend);
  Function fn = compiler::promote(frontend);
  problems = ir::verify(fn, ir::Level::Strict);
  EXPECT_TRUE(problems.empty()) << joined(problems) << "\n" << ir::print(fn);
  return fn;
}

// A random program that promote accepts: it rejects, as NumPy does, a Python
// int literal that its integer partner cannot hold. `frontend` gets its input.
Function valid_program(RandomProgram& gen, int params, int statements,
                       Function* frontend = nullptr) {
  for (;;) {
    Function made = gen.make(params, statements);
    try {
      Function fn = strict(made);
      if (frontend) *frontend = made;
      return fn;
    } catch (const ir::CompileError&) {
    }
  }
}

// Folding a program made only of constants leaves one literal, equal to what
// the interpreter computes from the unfolded program.
TEST(ConstantFold, AgreesWithInterpreterOnConstants) {
  RandomProgram gen(7);
  for (int i = 0; i < 300; ++i) {
    Function fn = valid_program(gen, 0, 0);
    Function folded = compiler::constant_fold(fn);
    // A constant if leaves its taken branch, then the dead rest (dce's job).
    ASSERT_FALSE(folded.body.empty());
    const ir::Stmt& ret = *folded.body[0];
    ASSERT_EQ(ret.kind, ir::StmtKind::Return) << ir::print(folded);
    ASSERT_EQ(ret.value->op, ir::Op::Const) << ir::print(folded);
    Literal want = ir::interpret(fn, {});
    EXPECT_TRUE(same_result(want, ret.value->value, fn.result))
        << show(want, fn.result) << " vs " << show(ret.value->value, fn.result) << "\n"
        << ir::print(fn) << ir::print(folded);
  }
}

// Partly constant programs with locals and ifs: folding keeps every result.
TEST(ConstantFold, AgreesWithInterpreterOnPrograms) {
  RandomProgram gen(11);
  for (int i = 0; i < 200; ++i) {
    Function fn = valid_program(gen, 2, 2);
    Function folded = compiler::constant_fold(fn);
    EXPECT_TRUE(ir::verify(folded, ir::Level::Strict).empty()) << ir::print(folded);
    expect_same_results(fn, folded, 20, i);
  }
}

// Every other pass, alone and chained, keeps the interpreter's results.
TEST(Passes, AgreeWithInterpreterOnPrograms) {
  RandomProgram gen(13);
  for (int i = 0; i < 200; ++i) {
    Function frontend;
    Function fn = valid_program(gen, 3, 3, &frontend);
    for (const char* name : {"simplify", "cse", "dce"}) {
      SCOPED_TRACE(name);
      Function out = pass_named(name).run(fn);
      std::vector<std::string> problems = ir::verify(out, ir::Level::Strict);
      EXPECT_TRUE(problems.empty()) << joined(problems) << "\n" << ir::print(out);
      expect_same_results(fn, out, 20, i);
    }
    expect_same_results(fn, compiler::optimize(frontend), 20, i);
  }
}

// promote compares signed integers with uint64 exactly (NumPy's float64 would
// say 2^63 - 1 == 2^63).
TEST(Promote, SignedVsUint64ComparesExactly) {
  ir::FunctionBuilder fb("cmp", "t.py", {1, 0});
  ExprPtr s = fb.add_param("s", Type{Scalar::I64});
  ExprPtr u = fb.add_param("u", Type{Scalar::U64});
  fb.ret(ir::make_binary(ir::Op::Lt, s, u), {2, 0});
  Function fn = strict(fb.finish());
  auto lt = [&](int64_t a, uint64_t b) {
    return ir::interpret(fn, {Literal{a, 0.0}, Literal{static_cast<int64_t>(b), 0.0}}).i;
  };
  EXPECT_EQ(lt(-1, 0), 1);
  EXPECT_EQ(lt(std::numeric_limits<int64_t>::max(), uint64_t{1} << 63), 1);
  EXPECT_EQ(lt(std::numeric_limits<int64_t>::max(), (uint64_t{1} << 63) - 1), 0);
  EXPECT_EQ(lt(5, 5), 0);
  EXPECT_EQ(lt(std::numeric_limits<int64_t>::min(), 0), 1);
}

TEST(Pipeline, RejectsBrokenInput) {
  Function fn;
  fn.name = "broken";
  fn.result = Type{Scalar::F64};
  fn.body.push_back(ir::make_return(ir::make_param(3, Type{Scalar::F64})));  // no such param
  // Release builds verify only when asked.
  const char* before = std::getenv("EMBER_VERIFY");
  std::string saved = before ? before : "";
  setenv("EMBER_VERIFY", "1", 1);
  EXPECT_THROW(compiler::optimize(fn), std::logic_error);
  if (before)
    setenv("EMBER_VERIFY", saved.c_str(), 1);
  else
    unsetenv("EMBER_VERIFY");
}

}  // namespace
}  // namespace ember
