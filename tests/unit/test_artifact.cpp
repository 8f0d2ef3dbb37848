// Compiled artifacts without Python: SHA-256, the file format's checks, and
// the object loader on valid and damaged object code.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "codegen/codegen.h"
#include "compiler/passes.h"
#include "ir/builder.h"
#include "runtime/artifact.h"
#include "runtime/object_loader.h"
#include "runtime/sha256.h"

namespace ember {
namespace {

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(runtime::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(runtime::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(runtime::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(runtime::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// The SHA extensions' code against the portable one, on every tail length.
TEST(Sha256, ExtensionsAgreeWithPortable) {
  std::mt19937 random(3);
  std::string data;
  for (int n = 0; n < 700; ++n) {
    EXPECT_EQ(runtime::sha256(data, true), runtime::sha256(data, false)) << n;
    data += static_cast<char>(random());
  }
}

TEST(Artifact, FormatRoundTripsAndRejectsDamage) {
  std::map<std::string, std::string> fields = {{"key", "k"}, {"object", std::string(300, '\1')}};
  std::string bytes = runtime::write_artifact(fields);
  EXPECT_EQ(runtime::read_artifact(bytes), fields);
  for (size_t cut = 0; cut < bytes.size(); cut += 7)
    EXPECT_THROW(runtime::read_artifact(bytes.substr(0, cut)), runtime::ArtifactError) << cut;
  for (size_t at = 0; at < bytes.size(); ++at) {
    std::string flipped = bytes;
    flipped[at] ^= 0x04;
    EXPECT_THROW(runtime::read_artifact(flipped), runtime::ArtifactError) << at;
  }
}

// The object code of x * 3.5 + sqrt(x) + exp(x) for float64 (exp: a call
// into glibc's libmvec).
std::string object_code() {
  ir::FunctionBuilder b("f", "test.py", {1, 1});
  ir::ExprPtr x = b.add_param("x", {ir::Scalar::F64});
  ir::ExprPtr y = ir::make_binary(ir::Op::Add, ir::make_binary(ir::Op::Mul, x, ir::make_float(3.5, {ir::Scalar::F64})),
                                  ir::make_unary(ir::Op::Sqrt, x));
  b.ret(ir::make_binary(ir::Op::Add, y, ir::make_unary(ir::Op::Exp, x)), {});
  ir::Function fn = compiler::promote(b.finish());
  return codegen::compile_object(fn, codegen::Layout{{false}}, {}, "t").elf;
}

// Both ways of calling libmvec: directly, and through the stubs.
TEST(ObjectLoader, LoadsAndRuns) {
  for (bool direct : {true, false}) {
    runtime::LoadedObject code(object_code(), direct);
    auto f = reinterpret_cast<codegen::ContigFn>(code.symbol("t_contig"));
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(code.symbol("no_such_symbol"), nullptr);
    double in[100], out[100];
    for (int i = 0; i < 100; ++i) in[i] = i * 0.25;
    void* ptrs[] = {in, out};
    f(ptrs, 100);
    for (int i = 0; i < 100; ++i)
      EXPECT_NEAR(out[i], in[i] * 3.5 + std::sqrt(in[i]) + std::exp(in[i]), 1e-12 * (1 + std::exp(in[i])));
  }
}

// Damaged object code is a LoadError or, where the damage misses what the
// loader reads, loads: never a crash (no code runs here).
TEST(ObjectLoader, DamagedObjectsNeverCrash) {
  std::string elf = object_code();
  for (size_t cut = 0; cut < elf.size(); cut += 13) {
    try {
      runtime::LoadedObject code(elf.substr(0, cut));
    } catch (const runtime::LoadError&) {
    }
  }
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    std::string damaged = elf;
    for (int k = 0; k < 4; ++k) damaged[random() % damaged.size()] = static_cast<char>(random());
    try {
      runtime::LoadedObject code(damaged);
    } catch (const runtime::LoadError&) {
    }
  }
  EXPECT_THROW(runtime::LoadedObject("not an object"), runtime::LoadError);
}

}  // namespace
}  // namespace ember
