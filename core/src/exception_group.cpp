#include "trellis/exception_group.hpp"

#include <cxxabi.h>

#include <typeinfo>

#include "trellis/cancelled.hpp"

namespace trellis {

namespace {
std::string current_exception_type_name() {
    const std::type_info* type = abi::__cxa_current_exception_type();
    if (!type) return "unknown exception";
    int status = 0;
    char* demangled = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
    std::string name = status == 0 && demangled ? demangled : type->name();
    std::free(demangled);
    return name;
}
}  // namespace

std::string describe(const std::exception_ptr& error) {
    if (!error) return "no error";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return current_exception_type_name() + ": " + e.what();
    } catch (const cancelled&) {
        return "trellis::cancelled";
    } catch (...) {
        return current_exception_type_name();
    }
}

exception_group::exception_group(std::vector<std::exception_ptr> errors) : errors_(std::move(errors)) {
    if (errors_.empty()) throw std::invalid_argument("trellis::exception_group needs at least one error");
    message_ = std::to_string(errors_.size()) + (errors_.size() == 1 ? " error" : " errors") + ":";
    for (std::size_t i = 0; i < errors_.size(); ++i)
        message_ += (i ? "; " : " ") + std::string("[") + std::to_string(i + 1) + "] " + describe(errors_[i]);
}

}  // namespace trellis
