// Internal: readable names for types and functions, for task names and
// error messages.
#pragma once

#include <optional>
#include <string>

namespace trellis::detail {

// The demangled form of a C++ symbol or type name; the name itself if it
// does not demangle.
std::string demangle(const char* mangled);

// The demangled name of the function whose code starts at `address`: from
// the dynamic symbol table (dladdr), else from the ELF symbol table of the
// file it was loaded from. Empty when the file has no symbols (stripped).
std::optional<std::string> function_name(const void* address);

}  // namespace trellis::detail
