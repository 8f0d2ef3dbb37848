// A small ELF x86-64 relocatable-object loader (runtime/object_loader.h).
// The layout of one mapping: the code sections, then a stub per external
// function they call (`jmp *slot(%rip)`), page-aligned; then the other
// allocated sections and a global offset table (one slot per symbol that a
// GOT-relative relocation or a stub needs). Everything sits within one
// mapping, so 32-bit PC-relative references always reach.
#include "runtime/object_loader.h"

#include "runtime/interrupt.h"
#include "runtime/profilers.h"

#include <dlfcn.h>
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ember::runtime {
namespace {

constexpr size_t kStubBytes = 8;  // ff 25 rel32 (jmp *slot(%rip)), two int3
constexpr uint64_t kMaxSection = uint64_t{1} << 30;  // no kernel comes near; no overflow below

size_t align_up(size_t n, size_t a) { return a <= 1 ? n : (n + a - 1) / a * a; }

// Bounds-checked views of the object's bytes.
class Elf {
 public:
  explicit Elf(std::string_view bytes) : bytes_(bytes) {
    if (bytes.size() < sizeof(Elf64_Ehdr)) fail("shorter than an ELF header");
    std::memcpy(&header, bytes.data(), sizeof header);
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) fail("not an ELF file");
    if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
        header.e_machine != EM_X86_64 || header.e_type != ET_REL)
      fail("not an x86-64 relocatable object");
    if (header.e_shentsize != sizeof(Elf64_Shdr)) fail("unexpected section header size");
    sections = array<Elf64_Shdr>(header.e_shoff, header.e_shnum);
    if (header.e_shstrndx >= sections.size()) fail("no section name table");
    for (const Elf64_Shdr& s : sections)
      if (s.sh_type != SHT_NOBITS) range(s.sh_offset, s.sh_size);
  }

  template <typename T>
  std::vector<T> array(uint64_t offset, uint64_t count) const {
    if (count > bytes_.size() / sizeof(T)) fail("a table runs past the end");
    range(offset, count * sizeof(T));
    std::vector<T> items(count);
    if (count) std::memcpy(items.data(), bytes_.data() + offset, count * sizeof(T));
    return items;
  }

  const char* data(const Elf64_Shdr& s) const { return bytes_.data() + s.sh_offset; }

  std::string string(uint32_t table, uint32_t offset) const {
    if (table >= sections.size()) fail("bad string table");
    const Elf64_Shdr& s = sections[table];
    if (offset >= s.sh_size) fail("a name runs past its string table");
    const char* begin = data(s) + offset;
    return std::string(begin, strnlen(begin, s.sh_size - offset));
  }

  std::string name(const Elf64_Shdr& s) const { return string(header.e_shstrndx, s.sh_name); }

  [[noreturn]] static void fail(const std::string& why) {
    throw LoadError("object code: " + why);
  }

  Elf64_Ehdr header;
  std::vector<Elf64_Shdr> sections;

 private:
  void range(uint64_t offset, uint64_t size) const {
    if (offset > bytes_.size() || size > bytes_.size() - offset) fail("a section runs past the end");
  }
  std::string_view bytes_;
};

bool loaded(const Elf& elf, const Elf64_Shdr& s) {
  return (s.sh_flags & SHF_ALLOC) && s.sh_size > 0 && elf.name(s) != ".eh_frame";
}

bool got_relative(uint32_t type) {
  return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
         type == R_X86_64_REX_GOTPCRELX;
}

void* process_symbol(const std::string& name) {
  // ember's own: not exported by the extension (Python loads it RTLD_LOCAL).
  if (name == "ember_interrupt_requested") return interrupt_flag();
  // glibc's vector math: the JIT's code calls it; load it once, globally.
  static void* libmvec = dlopen("libmvec.so.1", RTLD_NOW | RTLD_GLOBAL);
  (void)libmvec;
  return dlsym(RTLD_DEFAULT, name.c_str());
}

}  // namespace

LoadedObject::LoadedObject(std::string_view bytes, bool direct_calls) {
  Elf elf(bytes);
  const std::vector<Elf64_Shdr>& sections = elf.sections;
  const Elf64_Shdr* symtab = nullptr;
  for (const Elf64_Shdr& s : sections) {
    if (s.sh_type == SHT_SYMTAB) symtab = &s;
    if ((s.sh_flags & SHF_TLS) && s.sh_size) Elf::fail("thread-local data is not supported");
    if ((s.sh_type == SHT_INIT_ARRAY || s.sh_type == SHT_FINI_ARRAY ||
         s.sh_type == SHT_PREINIT_ARRAY) && s.sh_size)
      Elf::fail("constructors are not supported");
  }
  if (!symtab) Elf::fail("no symbol table");
  std::vector<Elf64_Sym> syms = elf.array<Elf64_Sym>(symtab->sh_offset,
                                                     symtab->sh_size / sizeof(Elf64_Sym));

  // The relocation sections that apply to loaded sections, and what they need.
  std::vector<const Elf64_Shdr*> relas;
  std::vector<int> slot(syms.size(), -1), stub(syms.size(), -1);
  int slots = 0, stubs = 0;
  for (const Elf64_Shdr& s : sections) {
    if (s.sh_type == SHT_REL && s.sh_info < sections.size() && loaded(elf, sections[s.sh_info]))
      Elf::fail("REL relocations are not supported");
    if (s.sh_type != SHT_RELA || s.sh_info >= sections.size() || !loaded(elf, sections[s.sh_info]))
      continue;
    relas.push_back(&s);
    for (const Elf64_Rela& r : elf.array<Elf64_Rela>(s.sh_offset, s.sh_size / sizeof(Elf64_Rela))) {
      uint32_t type = ELF64_R_TYPE(r.r_info), sym = ELF64_R_SYM(r.r_info);
      if (sym >= syms.size()) Elf::fail("a relocation names no symbol");
      bool external = syms[sym].st_shndx == SHN_UNDEF;
      bool call = type == R_X86_64_PLT32 || type == R_X86_64_PC32;
      if ((got_relative(type) || (external && call)) && slot[sym] < 0) slot[sym] = slots++;
      if (external && call && stub[sym] < 0) stub[sym] = stubs++;
    }
  }

  // Layout: code and stubs, then (page-aligned) the rest and the GOT.
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<size_t> offset(sections.size(), 0);
  size_t end = 0;
  bool writable = false;
  auto place = [&](bool code) {
    for (size_t i = 0; i < sections.size(); ++i) {
      const Elf64_Shdr& s = sections[i];
      if (!loaded(elf, s) || bool(s.sh_flags & SHF_EXECINSTR) != code) continue;
      if (s.sh_addralign > page) Elf::fail("a section asks for more than page alignment");
      if (s.sh_size > kMaxSection) Elf::fail("a section is too large");
      offset[i] = align_up(end, s.sh_addralign);
      end = offset[i] + s.sh_size;
      writable |= bool(s.sh_flags & SHF_WRITE);
    }
  };
  place(true);
  size_t stubs_at = align_up(end, kStubBytes);
  size_t data_at = end = align_up(stubs_at + stubs * kStubBytes, page);
  place(false);
  size_t got_at = align_up(end, 8);
  size_ = align_up(got_at + slots * 8, page);

  void* mem = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    throw LoadError("cannot map " + std::to_string(size_) + " bytes for code: " +
                    std::strerror(errno));
  base_ = mem;
  auto* base = static_cast<char*>(mem);
  try {
    for (size_t i = 0; i < sections.size(); ++i)
      if (loaded(elf, sections[i]) && sections[i].sh_type != SHT_NOBITS)
        std::memcpy(base + offset[i], elf.data(sections[i]), sections[i].sh_size);

    auto address = [&](uint32_t i) -> uint64_t {
      const Elf64_Sym& s = syms[i];
      if (s.st_shndx == SHN_UNDEF) {
        std::string name = elf.string(symtab->sh_link, s.st_name);
        void* found = process_symbol(name);
        if (!found && ELF64_ST_BIND(s.st_info) != STB_WEAK)
          Elf::fail("unresolved symbol '" + name + "'");
        return reinterpret_cast<uint64_t>(found);
      }
      if (s.st_shndx == SHN_ABS) return s.st_value;
      if (s.st_shndx >= sections.size() || !loaded(elf, sections[s.st_shndx]) ||
          s.st_value > sections[s.st_shndx].sh_size)
        Elf::fail("a symbol lies outside the loaded sections");
      return reinterpret_cast<uint64_t>(base + offset[s.st_shndx]) + s.st_value;
    };
    for (uint32_t i = 0; i < syms.size(); ++i) {
      if (slot[i] >= 0) {
        uint64_t target = address(i);
        std::memcpy(base + got_at + slot[i] * 8, &target, 8);
      }
      if (stub[i] >= 0) {
        char* at = base + stubs_at + stub[i] * kStubBytes;
        int64_t rel = static_cast<int64_t>(got_at + slot[i] * 8) -
                      static_cast<int64_t>(stubs_at + stub[i] * kStubBytes + 6);
        int32_t rel32 = static_cast<int32_t>(rel);
        const unsigned char jmp[2] = {0xff, 0x25}, pad[2] = {0xcc, 0xcc};
        std::memcpy(at, jmp, 2);
        std::memcpy(at + 2, &rel32, 4);
        std::memcpy(at + 6, pad, 2);
      }
    }

    for (const Elf64_Shdr* rs : relas) {
      const Elf64_Shdr& target = sections[rs->sh_info];
      char* at_section = base + offset[rs->sh_info];
      for (const Elf64_Rela& r : elf.array<Elf64_Rela>(rs->sh_offset, rs->sh_size / sizeof(Elf64_Rela))) {
        uint32_t type = ELF64_R_TYPE(r.r_info), sym = ELF64_R_SYM(r.r_info);
        size_t width = type == R_X86_64_64 || type == R_X86_64_PC64 ? 8 : 4;
        if (type == R_X86_64_NONE) continue;
        if (r.r_offset > target.sh_size || width > target.sh_size - r.r_offset)
          Elf::fail("a relocation lies outside its section");
        char* place = at_section + r.r_offset;
        auto p = static_cast<int64_t>(reinterpret_cast<uint64_t>(place));
        int64_t value;
        if (type == R_X86_64_64) {
          value = static_cast<int64_t>(address(sym)) + r.r_addend;
        } else if (type == R_X86_64_PC64 || type == R_X86_64_PC32 || type == R_X86_64_PLT32) {
          // An external function within reach is called directly (mappings
          // often sit near the libraries); the stub serves the rest.
          value = static_cast<int64_t>(address(sym)) + r.r_addend - p;
          if (stub[sym] >= 0 && width == 4 && (!direct_calls || value != static_cast<int32_t>(value)))
            value = reinterpret_cast<int64_t>(base + stubs_at + stub[sym] * kStubBytes) +
                    r.r_addend - p;
        } else if (got_relative(type)) {
          value = reinterpret_cast<int64_t>(base + got_at + slot[sym] * 8) + r.r_addend - p;
        } else {
          Elf::fail("unsupported relocation type " + std::to_string(type));
        }
        if (width == 8) {
          std::memcpy(place, &value, 8);
        } else {
          if (value != static_cast<int32_t>(value)) Elf::fail("a relocation is out of range");
          int32_t v32 = static_cast<int32_t>(value);
          std::memcpy(place, &v32, 4);
        }
      }
    }

    for (const Elf64_Sym& s : syms) {
      int bind = ELF64_ST_BIND(s.st_info);
      if ((bind != STB_GLOBAL && bind != STB_WEAK) || s.st_shndx == SHN_UNDEF ||
          s.st_shndx >= sections.size() || !loaded(elf, sections[s.st_shndx]) ||
          s.st_value >= sections[s.st_shndx].sh_size)
        continue;
      symbols_[elf.string(symtab->sh_link, s.st_name)] = base + offset[s.st_shndx] + s.st_value;
    }

    std::vector<MappedFunction> functions;
    std::vector<uint64_t> addresses(sections.size(), 0);
    for (size_t i = 0; i < sections.size(); ++i)
      if (loaded(elf, sections[i])) addresses[i] = reinterpret_cast<uint64_t>(base + offset[i]);
    for (const Elf64_Sym& s : syms)
      if (ELF64_ST_TYPE(s.st_info) == STT_FUNC && s.st_size && s.st_shndx < sections.size() &&
          addresses[s.st_shndx])
        functions.push_back({elf.string(symtab->sh_link, s.st_name), addresses[s.st_shndx] + s.st_value,
                             s.st_size});
    announced_ = announce(functions, bytes, addresses);

    if ((data_at && mprotect(base, data_at, PROT_READ | PROT_EXEC) != 0) ||
        (size_ > data_at &&
         mprotect(base + data_at, size_ - data_at, PROT_READ | (writable ? PROT_WRITE : 0)) != 0))
      throw LoadError(std::string("cannot protect the code's memory: ") + std::strerror(errno));
  } catch (...) {
    munmap(base_, size_);
    throw;
  }
}

std::atomic<bool> exiting{false};

void keep_code_mapped() { exiting = true; }

LoadedObject::~LoadedObject() {
  if (exiting) return;
  withdraw(announced_);
  if (base_) munmap(base_, size_);
}

void* LoadedObject::symbol(const std::string& name) const {
  auto it = symbols_.find(name);
  return it == symbols_.end() ? nullptr : it->second;
}

}  // namespace ember::runtime
