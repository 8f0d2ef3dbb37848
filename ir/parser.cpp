// Recursive-descent reader of the text form that printer.cpp writes.
#include "ir/parser.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>

#include "ir/builder.h"

namespace ember::ir {
namespace {

// Python identifiers may be non-ASCII: every byte of a UTF-8 sequence counts.
bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Characters of a literal's value: digits, signs, '.', exponents, nan/inf.
bool is_literal_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-' ||
         c == '_';
}

// Reads the whole of `text` as a number; false when it is not one.
template <typename T>
bool read_number(std::string_view text, T* out) {
  const char* end = text.data() + text.size();
  std::from_chars_result r = std::from_chars(text.data(), end, *out);
  return r.ec == std::errc() && r.ptr == end;
}

std::optional<double> read_float(std::string_view text, Scalar s) {
  bool negative = !text.empty() && text.front() == '-';
  std::string_view magnitude = negative ? text.substr(1) : text;
  double sign = negative ? -1.0 : 1.0;
  if (magnitude == "nan") return std::copysign(std::numeric_limits<double>::quiet_NaN(), sign);
  if (magnitude == "inf") return sign * std::numeric_limits<double>::infinity();
  // A float32 is read as a float32: going through double first could round
  // twice and miss the value the printer wrote.
  if (s == Scalar::F32) {
    float f;
    if (read_number(text, &f)) return f;
  } else if (double d; read_number(text, &d)) {
    return d;
  }
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  Function function() {
    skip_blank_lines();
    Loc loc = line_location();
    size_t at = pos_;
    std::string head = name();
    if (head != "func" && head != "kernel") error_at(at, "expected 'func' or 'kernel'");
    fn_.loc = loc;
    fn_.name = function_name();
    expect("(");
    if (!accept(")")) {
      do fn_.params.push_back(declaration(&params_));
      while (accept(","));
      expect(")");
    }
    if (head == "kernel") {
      expect_word("over");
      size_t dims_at = pos_;
      fn_.domain = number();
      if (fn_.domain < 1 || fn_.domain > 3) error_at(dims_at, "a kernel's domain has 1 to 3 dimensions");
      fn_.result = Type{Scalar::Bool};
    } else {
      expect("->");
      fn_.result = type();
    }
    expect("{");
    end_line();
    locals();
    fn_.body = block();
    expect("}");
    end_line();
    skip_blank_lines();
    if (pos_ < text_.size()) error("unexpected text after the end of the function");
    return std::move(fn_);
  }

 private:
  // --- characters and positions -------------------------------------------

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip_spaces() {
    while (peek() == ' ' || peek() == '\t' || peek() == '\r') ++pos_;
  }

  void skip_blank_lines() {
    while (std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
  }

  [[noreturn]] void error(const std::string& msg) const { error_at(pos_, msg); }

  [[noreturn]] void error_at(size_t at, const std::string& msg) const {
    int line = 1, col = 1;
    for (size_t i = 0; i < at && i < text_.size(); ++i, ++col)
      if (text_[i] == '\n') line++, col = 0;
    throw ParseError(msg, line, col);
  }

  std::string_view rest_of_line() const {
    size_t end = text_.find('\n', pos_);
    return std::string_view(text_).substr(pos_, end == std::string::npos ? end : end - pos_);
  }

  bool accept(std::string_view token) {
    skip_spaces();
    if (std::string_view(text_).substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  void expect(std::string_view token) {
    if (!accept(token)) error("expected '" + std::string(token) + "'");
  }

  void expect_word(std::string_view word) {
    size_t at = pos_;
    if (name() != word) error_at(at, "expected '" + std::string(word) + "'");
  }

  // A run of characters accepted by `pred`; empty when there is none.
  template <typename Pred>
  std::string run_of(Pred pred) {
    skip_spaces();
    size_t start = pos_;
    while (pos_ < text_.size() && pred(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::string name() { return run_of(is_name_char); }

  // A Python identifier, or a name like "<lambda>" (__name__'s form). Not
  // anything up to the parameter list: the fuzzer's "f@-8\0...:2" printed
  // back as a name that a location seemed to end.
  std::string function_name() {
    std::string n = run_of([](char c) { return is_name_char(c) || c == '<' || c == '>'; });
    if (n.empty()) error("expected the function's name");
    return n;
  }

  int number() {
    size_t at = pos_;
    std::string digits =
        run_of([](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
    int v;
    if (!read_number(digits, &v)) error_at(at, "expected a number");
    return v;
  }

  // The optional "@line:col" that ends the current line. It is read ahead
  // because the nodes of the line need it before the parser reaches it; a
  // malformed one is left for end_line() to report where it stands.
  Loc line_location() const {
    std::string_view line = rest_of_line();
    size_t at = line.rfind('@');
    Loc loc;
    if (at == std::string_view::npos) return loc;
    std::string_view text = line.substr(at + 1);
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) return loc;
    size_t end = text.find_last_not_of(" \t\r");
    read_number(text.substr(0, colon), &loc.line);
    read_number(text.substr(colon + 1, end - colon), &loc.col);
    return loc;
  }

  void end_line() {
    if (accept("@")) {
      number();
      expect(":");
      number();
    }
    skip_spaces();
    if (peek() == '\n') {
      ++pos_;
    } else if (pos_ < text_.size()) {
      error("unexpected text '" + std::string(rest_of_line()) + "' at the end of the line");
    }
  }

  // --- declarations ---------------------------------------------------------

  Type type() {
    size_t at = pos_;
    std::string n = name();
    std::optional<Scalar> s = scalar_from_short_name(n);
    if (!s) error_at(at, "unknown type '" + n + "'");
    Type t{*s, false, 0};
    t.weak = accept("?");
    if (accept("[")) {
      size_t dims_at = pos_;
      int ndim = number();
      if (ndim < 1 || ndim > std::numeric_limits<uint8_t>::max())
        error_at(dims_at, "bad number of dimensions");
      t.ndim = static_cast<uint8_t>(ndim);
      expect("]");
    }
    return t;
  }

  Variable declaration(std::unordered_map<std::string, int>* names) {
    size_t at = pos_;
    Variable v;
    v.name = name();
    if (v.name.empty()) error("expected a name");
    if (params_.count(v.name) || locals_.count(v.name))
      error_at(at, "'" + v.name + "' is declared twice");
    int index = static_cast<int>(names->size());
    (*names)[v.name] = index;
    expect(":");
    v.type = type();
    return v;
  }

  // "var NAME: TYPE" lines; "var = ..." assigns a local that is named var.
  void locals() {
    for (;;) {
      skip_blank_lines();
      size_t start = pos_;
      if (name() == "var" && !accept("=")) {
        fn_.locals.push_back(declaration(&locals_));
        end_line();
      } else {
        pos_ = start;
        return;
      }
    }
  }

  // --- statements -----------------------------------------------------------

  Block block() {
    Block b;
    for (;;) {
      skip_blank_lines();
      if (pos_ >= text_.size()) error("missing '}'");
      if (peek() == '}') return b;
      b.push_back(statement());
    }
  }

  StmtPtr statement() {
    Loc loc = line_location();
    size_t start = pos_;
    std::string word = name();
    if (accept("=")) {
      auto it = locals_.find(word);
      if (it == locals_.end()) error_at(start, "'" + word + "' is not a local variable");
      ExprPtr value = expr(loc);
      end_line();
      return make_assign(it->second, value, loc);
    }
    if (word == "return") {
      ExprPtr value = fn_.is_kernel() ? nullptr : expr(loc);
      end_line();
      return make_return(value, loc);
    }
    if (word == "if") return if_statement(loc);
    Op atomic_op;
    bool atomic = word.rfind("atomic_", 0) == 0 && op_from_name(word.substr(7), &atomic_op);
    bool kernel_only = atomic || word == "store" || word == "for" || word == "while" ||
                       word == "break" || word == "continue";
    if (kernel_only && !fn_.is_kernel())
      error_at(start, "'" + word + "' is only allowed in a kernel");
    if (word == "break" || word == "continue") {
      end_line();
      return make_jump(word == "break" ? StmtKind::Break : StmtKind::Continue, loc);
    }
    if (word == "while") {
      ExprPtr cond = expr(loc);
      return make_while(cond, body(), loc);
    }
    if (word == "for") {
      size_t var_at = pos_;
      auto it = locals_.find(name());
      if (it == locals_.end()) error_at(var_at, "expected a local variable");
      expect_word("in");
      expect_word("range");
      std::vector<ExprPtr> r = operands(loc);
      if (r.size() != 3) error_at(var_at, "range needs start, stop and step");
      return make_for(it->second, r[0], r[1], r[2], body(), loc);
    }
    if (word == "store" || atomic) {
      std::vector<ExprPtr> target = operands(loc);
      if (target.empty()) error_at(start, "expected the array and its indices");
      expect("=");
      ExprPtr value = expr(loc);
      end_line();
      std::vector<ExprPtr> indices(target.begin() + 1, target.end());
      if (atomic) return make_atomic(atomic_op, target[0], indices, value, loc);
      return make_store(target[0], indices, value, loc);
    }
    error_at(start, word.empty() ? "expected a statement" : "unknown statement '" + word + "'");
  }

  // "(a, b, ...)" of expressions.
  std::vector<ExprPtr> operands(Loc loc) {
    expect("(");
    std::vector<ExprPtr> args;
    if (!accept(")")) {
      do args.push_back(expr(loc));
      while (accept(","));
      expect(")");
    }
    return args;
  }

  // "{" newline, statements, "}" newline.
  Block body() {
    expect("{");
    end_line();
    Block b = block();
    expect("}");
    end_line();
    return b;
  }

  StmtPtr if_statement(Loc loc) {
    ExprPtr cond = expr(loc);
    expect("{");
    end_line();
    Block then_body = block();
    expect("}");
    Block else_body;
    size_t after = pos_;
    if (name() == "else") {
      expect("{");
      end_line();
      else_body = block();
      expect("}");
    } else {
      pos_ = after;
    }
    end_line();
    return make_if(cond, std::move(then_body), std::move(else_body), loc);
  }

  // --- expressions ----------------------------------------------------------

  ExprPtr expr(Loc loc) {
    skip_spaces();
    size_t start = pos_;
    if (peek() == '-' || std::isdigit(static_cast<unsigned char>(peek()))) {
      std::string text = run_of(is_literal_char);
      expect(":");
      return constant(text, start, loc);
    }
    std::string word = name();
    if (word.empty()) error("expected an expression");
    if (accept(":")) return constant(word, start, loc);
    if (word == "cast" && accept("<")) {
      Type t = type();
      expect(">");
      expect("(");
      ExprPtr x = expr(loc);
      expect(")");
      return make_cast(x, t, loc);
    }
    if ((word == "shape" || word == "tid") && accept("<")) {
      int dim = number();
      expect(">");
      std::vector<ExprPtr> args = operands(loc);
      if (word == "tid") {
        if (!args.empty()) error_at(start, "'tid' takes no operands");
        return make_tid(dim, loc);
      }
      if (args.size() != 1) error_at(start, "'shape' takes one operand");
      return make_shape(args[0], dim, loc);
    }
    skip_spaces();
    if (peek() == '(') return call(word, start, loc);
    return reference(word, start, loc);
  }

  // "op(args...)": select, load, a unary or a binary operator.
  ExprPtr call(const std::string& word, size_t start, Loc loc) {
    Op op;
    if (!op_from_name(word, &op) ||
        !(op == Op::Select || op == Op::Load || is_unary(op) || is_binary(op)))
      error_at(start, "unknown operator '" + word + "'");
    std::vector<ExprPtr> args = operands(loc);
    if (op == Op::Load) {
      if (args.empty()) error_at(start, "'load' needs an array");
      return make_load(args[0], std::vector<ExprPtr>(args.begin() + 1, args.end()), loc);
    }
    size_t arity = op == Op::Select ? 3 : is_unary(op) ? 1 : 2;
    if (args.size() != arity)
      error_at(start, "'" + word + "' takes " + std::to_string(arity) + " operands, got " +
                          std::to_string(args.size()));
    if (op == Op::Select) return make_select(args[0], args[1], args[2], loc);
    if (is_unary(op)) return make_unary(op, args[0], loc);
    return make_binary(op, args[0], args[1], loc);
  }

  ExprPtr reference(const std::string& word, size_t start, Loc loc) {
    if (auto it = params_.find(word); it != params_.end())
      return make_param(it->second, fn_.params[it->second].type, loc);
    if (auto it = locals_.find(word); it != locals_.end())
      return make_var(it->second, fn_.locals[it->second].type, loc);
    error_at(start, "unknown name '" + word + "'");
  }

  // "VALUE:TYPE"; the ':' has been read.
  ExprPtr constant(const std::string& text, size_t start, Loc loc) {
    Type t = type();
    if (t.is_array()) error_at(start, "a constant must be a scalar");
    Literal v;
    bool ok = false;
    switch (kind_of(t.scalar)) {
      case Kind::Bool:
        ok = text == "true" || text == "false";
        v.i = text == "true";
        break;
      case Kind::Signed: ok = read_number(text, &v.i); break;
      case Kind::Unsigned: {
        uint64_t u;
        ok = read_number(text, &u);
        v.i = static_cast<int64_t>(u);
        break;
      }
      case Kind::Float: {
        std::optional<double> f = read_float(text, t.scalar);
        ok = f.has_value();
        v.f = f.value_or(0.0);
        break;
      }
    }
    // Integers must fit their type: make_const would silently wrap them.
    if (!ok || (kind_of(t.scalar) != Kind::Float && normalize(v, t) != v))
      error_at(start, "'" + text + "' is not a valid " + to_string(t) + " constant");
    return make_const(t, v, loc);
  }

  std::string text_;
  size_t pos_ = 0;
  Function fn_;
  std::unordered_map<std::string, int> params_, locals_;
};

}  // namespace

Function parse(const std::string& text) { return Parser(text).function(); }

}  // namespace ember::ir
