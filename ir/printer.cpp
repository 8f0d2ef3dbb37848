// Deterministic text form of a Function (the format is described in printer.h).
#include "ir/printer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace ember::ir {
namespace {

// Shortest text that reads back to the same value, and always recognizable as
// a float ("1.0", not "1"). A float32 prints its own shortest form so that
// 0.1:f32 does not become 0.10000000149011612:f32.
std::string float_text(double v, Scalar s) {
  if (std::isnan(v)) return std::signbit(v) ? "-nan" : "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  std::to_chars_result r = s == Scalar::F32
                               ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                               : std::to_chars(buf, buf + sizeof buf, v);
  std::string text(buf, r.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string literal_text(Literal v, Type t) {
  switch (kind_of(t.scalar)) {
    case Kind::Bool: return v.i ? "true" : "false";
    case Kind::Signed: return std::to_string(v.i);
    case Kind::Unsigned: return std::to_string(static_cast<uint64_t>(v.i));
    case Kind::Float: return float_text(v.f, t.scalar);
  }
  return "";
}

// Out-of-range indices only occur in broken IR; print something the verifier's
// user can still read instead of crashing.
std::string name_of(const std::vector<Variable>& vars, int index, const char* what) {
  if (index >= 0 && index < static_cast<int>(vars.size())) return vars[index].name;
  return std::string("<bad ") + what + " " + std::to_string(index) + ">";
}

class Printer {
 public:
  Printer(const Function& fn, bool with_locations) : fn_(fn), with_locations_(with_locations) {}

  std::string function() {
    out_ = (fn_.is_kernel() ? "kernel " : "func ") + fn_.name + "(";
    for (size_t i = 0; i < fn_.params.size(); ++i) {
      if (i) out_ += ", ";
      declaration(fn_.params[i]);
    }
    if (fn_.is_kernel())
      out_ += ") over " + std::to_string(fn_.domain) + " {";
    else
      out_ += ") -> " + to_string(fn_.result) + " {";
    end_line(fn_.loc);
    for (const Variable& v : fn_.locals) {
      out_ += "  var ";
      declaration(v);
      out_ += "\n";
    }
    block(fn_.body, 1);
    out_ += "}\n";
    return std::move(out_);
  }

  std::string expression(const Expr& e) {
    expr(e);
    return std::move(out_);
  }

 private:
  void declaration(const Variable& v) { out_ += v.name + ": " + to_string(v.type); }

  void end_line(Loc loc) {
    if (with_locations_) out_ += "  @" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
    out_ += "\n";
  }

  void indent(int depth) { out_.append(2 * depth, ' '); }

  void block(const Block& b, int depth) {
    for (const StmtPtr& s : b) stmt(*s, depth);
  }

  void stmt(const Stmt& s, int depth) {
    indent(depth);
    switch (s.kind) {
      case StmtKind::Assign:
        out_ += name_of(fn_.locals, s.var, "var") + " = ";
        expr_or_null(s.value);
        end_line(s.loc);
        return;
      case StmtKind::Return:
        out_ += "return";
        if (s.value) out_ += " ";
        if (s.value || !fn_.is_kernel()) expr_or_null(s.value);
        end_line(s.loc);
        return;
      case StmtKind::Store:
      case StmtKind::Atomic:
        out_ += s.kind == StmtKind::Store ? "store" : std::string("atomic_") + op_name(s.op);
        arguments(s.args);
        out_ += " = ";
        expr_or_null(s.value);
        end_line(s.loc);
        return;
      case StmtKind::Break:
      case StmtKind::Continue:
        out_ += s.kind == StmtKind::Break ? "break" : "continue";
        end_line(s.loc);
        return;
      case StmtKind::For:
      case StmtKind::While:
        if (s.kind == StmtKind::For) {
          out_ += "for " + name_of(fn_.locals, s.var, "var") + " in range";
          arguments(s.args);
        } else {
          out_ += "while ";
          expr_or_null(s.value);
        }
        out_ += " {";
        end_line(s.loc);
        block(s.then_body, depth + 1);
        indent(depth);
        out_ += "}\n";
        return;
      case StmtKind::If:
        out_ += "if ";
        expr_or_null(s.value);
        out_ += " {";
        end_line(s.loc);
        block(s.then_body, depth + 1);
        if (!s.else_body.empty()) {
          indent(depth);
          out_ += "} else {\n";
          block(s.else_body, depth + 1);
        }
        indent(depth);
        out_ += "}\n";
        return;
    }
  }

  void expr_or_null(const ExprPtr& e) {
    if (e)
      expr(*e);
    else
      out_ += "<null>";
  }

  void expr(const Expr& e) {
    switch (e.op) {
      case Op::Const: out_ += literal_text(e.value, e.type) + ":" + to_string(e.type); return;
      case Op::Param: out_ += name_of(fn_.params, e.index, "param"); return;
      case Op::Var: out_ += name_of(fn_.locals, e.index, "var"); return;
      case Op::Cast: out_ += "cast<" + to_string(e.type) + ">"; break;
      case Op::Shape:
      case Op::Tid: out_ += std::string(op_name(e.op)) + "<" + std::to_string(e.index) + ">"; break;
      default: out_ += op_name(e.op); break;
    }
    arguments(e.args);
  }

  void arguments(const std::vector<ExprPtr>& args) {
    out_ += "(";
    for (size_t i = 0; i < args.size(); ++i) {
      if (i) out_ += ", ";
      expr_or_null(args[i]);
    }
    out_ += ")";
  }

  const Function& fn_;
  bool with_locations_;
  std::string out_;
};

}  // namespace

std::string print(const Function& fn, bool with_locations) {
  return Printer(fn, with_locations).function();
}

std::string print(const Expr& e, const Function& fn) { return Printer(fn, false).expression(e); }

}  // namespace ember::ir
