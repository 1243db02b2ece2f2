// Names for task origins. A task spawned from a plain function is named
// after that function, as Trio names tasks after their function's
// qualified name. C++ has no reflection for that, so the name comes from
// the symbol tables at run time: dladdr finds exported symbols; functions
// of an executable built without -rdynamic (or with internal linkage) are
// only in its static ELF symbol table, which is read from the file the
// first time a name is asked for. This happens only when someone asks for
// a task's name, never on the spawn path.

#include "demangle.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace trellis::detail {

std::string demangle(const char* mangled) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

namespace {

// A read-only mapping of a whole file; unmapped on destruction.
class mapped_file {
public:
    explicit mapped_file(const char* path) {
        const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st {};
        if (::fstat(fd, &st) == 0 && st.st_size > 0) {
            void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                data_ = static_cast<const unsigned char*>(p);
                size_ = static_cast<std::size_t>(st.st_size);
            }
        }
        ::close(fd);
    }
    ~mapped_file() {
        if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
    }
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    const unsigned char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

// The name of the function symbol at file-relative address `value` in the
// 64-bit ELF file `file`'s .symtab, if any. Every offset is bounds-checked:
// the file is only trusted to be whatever the loader mapped.
std::optional<std::string> symtab_lookup(const mapped_file& file, ElfW(Addr) value) {
    const unsigned char* base = file.data();
    const std::size_t size = file.size();
    if (!base || size < sizeof(ElfW(Ehdr))) return std::nullopt;
    ElfW(Ehdr) eh;
    std::memcpy(&eh, base, sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_shentsize != sizeof(ElfW(Shdr))) return std::nullopt;
    if (eh.e_shoff > size || eh.e_shnum > (size - eh.e_shoff) / sizeof(ElfW(Shdr))) return std::nullopt;
    auto section = [&](std::size_t i) {
        ElfW(Shdr) sh;
        std::memcpy(&sh, base + eh.e_shoff + i * sizeof(ElfW(Shdr)), sizeof sh);
        return sh;
    };
    for (std::size_t i = 0; i < eh.e_shnum; ++i) {
        const ElfW(Shdr) symtab = section(i);
        if (symtab.sh_type != SHT_SYMTAB || symtab.sh_link >= eh.e_shnum) continue;
        const ElfW(Shdr) strtab = section(symtab.sh_link);
        if (symtab.sh_offset > size || symtab.sh_size > size - symtab.sh_offset) continue;
        if (strtab.sh_offset > size || strtab.sh_size > size - strtab.sh_offset) continue;
        const std::size_t count = symtab.sh_size / sizeof(ElfW(Sym));
        for (std::size_t k = 0; k < count; ++k) {
            ElfW(Sym) sym;
            std::memcpy(&sym, base + symtab.sh_offset + k * sizeof(ElfW(Sym)), sizeof sym);
            if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value != value) continue;
            if (sym.st_name >= strtab.sh_size) continue;
            const char* name = reinterpret_cast<const char*>(base + strtab.sh_offset + sym.st_name);
            if (std::memchr(name, '\0', strtab.sh_size - sym.st_name) == nullptr) continue;
            return demangle(name);
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> function_name(const void* address) {
    Dl_info info{};
    if (::dladdr(address, &info) == 0) return std::nullopt;
    if (info.dli_sname && info.dli_saddr == address) return demangle(info.dli_sname);
    if (!info.dli_fname || !info.dli_fbase) return std::nullopt;
    // The main program reports an empty file name.
    const char* path = info.dli_fname[0] != '\0' ? info.dli_fname : "/proc/self/exe";
    const mapped_file file(path);
    if (!file.data() || file.size() < sizeof(ElfW(Ehdr))) return std::nullopt;
    ElfW(Ehdr) eh;
    std::memcpy(&eh, file.data(), sizeof eh);
    // Position-independent files' symbols are relative to the load address.
    const auto addr = reinterpret_cast<ElfW(Addr)>(address);
    const ElfW(Addr) value = eh.e_type == ET_DYN ? addr - reinterpret_cast<ElfW(Addr)>(info.dli_fbase) : addr;
    return symtab_lookup(file, value);
}

}  // namespace trellis::detail
