// Reference interpreter: a direct tree walk over a Strict-level Function.
#include "ir/interpreter.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "ir/builder.h"
#include "ir/eval.h"

namespace ember::ir {
namespace {

struct Frame {
  const Function* fn = nullptr;
  std::vector<Literal> params;
  std::vector<Literal> locals;
  const std::vector<KernelArg>* arrays = nullptr;  // kernels only
  std::vector<int64_t> tid;
};

Literal eval_expr(const Expr& e, const Frame& f);

// The address of the element that args[0] (an array Param) has at indices
// args[1..]; negative indices count from the end, as in NumPy.
char* element(const std::vector<ExprPtr>& args, Loc loc, const Frame& f) {
  int param = args[0]->index;
  const ArrayRef& a = f.arrays->at(param).array;
  char* p = static_cast<char*>(a.data);
  for (size_t k = 1; k < args.size(); ++k) {
    int64_t i = eval_expr(*args[k], f).i, extent = a.shape.at(k - 1);
    // A uint64 index (the builder's cast of one to int64) never counts from the end.
    const Expr& index = *args[k];
    bool is_unsigned = index.op == Op::Cast && index.args[0]->type.scalar == Scalar::U64;
    int64_t wrapped = i < 0 && !is_unsigned ? i + extent : i;
    if (wrapped < 0 || wrapped >= extent)
      throw index_error(*f.fn, param, static_cast<int>(k - 1), i, a.shape, loc.line, is_unsigned);
    p += wrapped * a.strides.at(k - 1);
  }
  return p;
}

Literal eval_expr(const Expr& e, const Frame& f) {
  auto arg = [&](int i) { return eval_expr(*e.args[i], f); };
  switch (e.op) {
    case Op::Const: return e.value;
    case Op::Param: return f.params.at(e.index);
    case Op::Var: return f.locals.at(e.index);
    case Op::Load: return load_literal(element(e.args, e.loc, f), e.type.scalar);
    case Op::Shape: return Literal{f.arrays->at(e.args[0]->index).array.shape.at(e.index), 0.0};
    case Op::Tid: return Literal{f.tid.at(e.index), 0.0};
    case Op::Cast: return eval_cast(arg(0), e.args[0]->type.scalar, e.type.scalar);
    case Op::Select: return arg(arg(0).i ? 1 : 2);  // only the chosen side is evaluated
    default:
      Scalar t = e.args[0]->type.scalar;  // Strict: operands share one type
      if (is_unary(e.op)) return eval_unary(e.op, t, arg(0));
      return eval_binary(e.op, t, arg(0), arg(1));
  }
}

// How a block ended: by falling off its end, or by a jump out of it.
enum class Exit { Normal, Break, Continue, Return };

// Runs `b` statement by statement; a returned value goes to `*result`.
Exit run(const Block& b, Frame& f, Literal* result) {
  for (const StmtPtr& s : b) {
    switch (s->kind) {
      case StmtKind::Assign: f.locals.at(s->var) = eval_expr(*s->value, f); break;
      case StmtKind::If: {
        Exit x = run(eval_expr(*s->value, f).i ? s->then_body : s->else_body, f, result);
        if (x != Exit::Normal) return x;
        break;
      }
      case StmtKind::Return:
        if (s->value) *result = eval_expr(*s->value, f);
        return Exit::Return;
      case StmtKind::Break: return Exit::Break;
      case StmtKind::Continue: return Exit::Continue;
      case StmtKind::Store: {  // Python evaluates the value before the target
        Literal v = eval_expr(*s->value, f);
        store_literal(element(s->args, s->loc, f), s->args[0]->type.scalar, v);
        break;
      }
      case StmtKind::Atomic: {
        Scalar t = s->args[0]->type.scalar;
        Literal v = eval_expr(*s->value, f);
        char* p = element(s->args, s->loc, f);
        store_literal(p, t, eval_binary(s->op, t, load_literal(p, t), v));
        break;
      }
      case StmtKind::While:
      case StmtKind::For: {
        // range(): the number of iterations first, in unsigned arithmetic
        // (as the compiled loop, lower_kernel.cpp), so nothing overflows.
        bool is_for = s->kind == StmtKind::For;
        uint64_t start = 0, step = 0, count = 0, n = 0;
        if (is_for) {
          int64_t from = eval_expr(*s->args[0], f).i, to = eval_expr(*s->args[1], f).i;
          int64_t by = eval_expr(*s->args[2], f).i;
          start = static_cast<uint64_t>(from);
          step = static_cast<uint64_t>(by);
          if (by > 0 && to > from) count = (static_cast<uint64_t>(to) - start - 1) / step + 1;
          if (by < 0 && to < from) count = (start - static_cast<uint64_t>(to) - 1) / (0 - step) + 1;
        }
        for (;;) {
          if (is_for) {
            if (n == count) break;
            f.locals.at(s->var) = Literal{static_cast<int64_t>(start + n++ * step), 0.0};
          } else if (!eval_expr(*s->value, f).i) {
            break;
          }
          Exit x = run(s->then_body, f, result);
          if (x == Exit::Break) break;
          if (x == Exit::Return) return x;
        }
        break;
      }
    }
  }
  return Exit::Normal;
}

}  // namespace

Literal load_literal(const void* p, Scalar s) {
  Literal v;
  switch (s) {
    case Scalar::F32: { float x; std::memcpy(&x, p, 4); v.f = x; return v; }
    case Scalar::F64: std::memcpy(&v.f, p, 8); return v;
    default: {
      int64_t bits = 0;
      std::memcpy(&bits, p, bits_of(s) / 8);  // little-endian: the low bytes
      return normalize(Literal{bits, 0.0}, Type{s});
    }
  }
}

void store_literal(void* p, Scalar s, Literal v) {
  if (s == Scalar::F32) {
    float x = static_cast<float>(v.f);
    std::memcpy(p, &x, 4);
  } else if (s == Scalar::F64) {
    std::memcpy(p, &v.f, 8);
  } else {
    std::memcpy(p, &v.i, bits_of(s) / 8);
  }
}

Literal interpret(const Function& fn, const std::vector<Literal>& args) {
  if (args.size() != fn.params.size())
    throw std::invalid_argument("interpret: '" + fn.name + "' takes " +
                                std::to_string(fn.params.size()) + " arguments, got " +
                                std::to_string(args.size()));
  Frame f{&fn, {}, std::vector<Literal>(fn.locals.size())};
  // Normalized so that a caller's sloppy literal (300 for a uint8) cannot leak through.
  for (size_t i = 0; i < args.size(); ++i)
    f.params.push_back(normalize(args[i], fn.params[i].type));
  Literal r;
  if (run(fn.body, f, &r) != Exit::Return)
    throw std::logic_error("interpret: '" + fn.name + "' ended without a return");
  return r;
}

void interpret_kernel(const Function& fn, const std::vector<KernelArg>& args,
                      const std::vector<int64_t>& domain) {
  if (!fn.is_kernel() || domain.size() != static_cast<size_t>(fn.domain) ||
      args.size() != fn.params.size())
    throw std::invalid_argument("interpret_kernel: '" + fn.name +
                                "' needs its arguments and a domain of " +
                                std::to_string(fn.domain) + " dimensions");
  Frame f{&fn, {}, {}, &args, std::vector<int64_t>(domain.size())};
  for (size_t i = 0; i < args.size(); ++i) {
    f.params.push_back(normalize(args[i].scalar, Type{fn.params[i].type.scalar}));
    const ArrayRef& a = args[i].array;
    if (fn.params[i].type.is_array() &&
        (a.shape.size() != fn.params[i].type.ndim || a.strides.size() != a.shape.size()))
      throw std::invalid_argument("interpret_kernel: array '" + fn.params[i].name +
                                  "' has the wrong number of dimensions");
  }
  for (int64_t extent : domain)
    if (extent <= 0) return;
  for (;;) {
    f.locals.assign(fn.locals.size(), Literal{});
    Literal unused;
    run(fn.body, f, &unused);
    size_t k = domain.size();  // the next index, last dimension fastest
    while (k > 0 && ++f.tid[k - 1] == domain[k - 1]) f.tid[--k] = 0;
    if (k == 0) return;
  }
}

}  // namespace ember::ir
