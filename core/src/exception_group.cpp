#include "trellis/exception_group.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
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

namespace {

const exception_group* as_group(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const exception_group& g) {
        return &g;  // the group lives as long as the exception_ptr does
    } catch (...) {
        return nullptr;
    }
}

void collect_leaves(const exception_group& group, std::vector<std::exception_ptr>& out) {
    for (const auto& e : group.exceptions()) {
        if (const exception_group* inner = as_group(e))
            collect_leaves(*inner, out);
        else
            out.push_back(e);
    }
}

// The two halves of one group's errors, as lists (a half may be empty).
struct split_lists {
    std::vector<std::exception_ptr> matched;
    std::vector<std::exception_ptr> rest;
};

split_lists split_errors(const std::vector<std::exception_ptr>& errors,
                         const std::function<bool(const std::exception_ptr&)>& matches) {
    split_lists out;
    for (const auto& e : errors) {
        const exception_group* inner = as_group(e);
        if (!inner) {
            (matches(e) ? out.matched : out.rest).push_back(e);
            continue;
        }
        auto halves = split_errors(inner->exceptions(), matches);
        // A nested group that lands whole on one side keeps its identity.
        if (halves.rest.empty()) {
            out.matched.push_back(e);
        } else if (halves.matched.empty()) {
            out.rest.push_back(e);
        } else {
            out.matched.push_back(std::make_exception_ptr(exception_group(std::move(halves.matched))));
            out.rest.push_back(std::make_exception_ptr(exception_group(std::move(halves.rest))));
        }
    }
    return out;
}

std::optional<exception_group> group_or_none(std::vector<std::exception_ptr> errors) {
    if (errors.empty()) return std::nullopt;
    return exception_group(std::move(errors));
}

// Runs handler on each matching leaf of `errors` and returns what is left,
// nesting kept; exceptions thrown by the handler are appended to the
// outermost level (`thrown`).
std::vector<std::exception_ptr> handle_errors(const std::vector<std::exception_ptr>& errors,
                                              const std::function<bool(const std::exception_ptr&)>& matches,
                                              const std::function<void(const std::exception_ptr&)>& handler,
                                              std::vector<std::exception_ptr>& thrown) {
    std::vector<std::exception_ptr> left;
    for (const auto& e : errors) {
        if (const exception_group* inner = as_group(e)) {
            auto inner_left = handle_errors(inner->exceptions(), matches, handler, thrown);
            if (inner_left.size() == inner->exceptions().size() &&
                std::equal(inner_left.begin(), inner_left.end(), inner->exceptions().begin()))
                left.push_back(e);  // untouched: keep the original group
            else if (!inner_left.empty())
                left.push_back(std::make_exception_ptr(exception_group(std::move(inner_left))));
            continue;
        }
        if (!matches(e)) {
            left.push_back(e);
            continue;
        }
        try {
            handler(e);
        } catch (...) {
            thrown.push_back(std::current_exception());
        }
    }
    return left;
}

std::size_t count_leaves(const std::vector<std::exception_ptr>& errors) {
    std::size_t n = 0;
    for (const auto& e : errors) {
        if (const exception_group* inner = as_group(e))
            n += count_leaves(inner->exceptions());
        else
            ++n;
    }
    return n;
}

// The single leaf of a list that has exactly one.
std::exception_ptr only_leaf(const std::vector<std::exception_ptr>& errors) {
    for (const auto& e : errors) {
        if (const exception_group* inner = as_group(e)) {
            if (count_leaves(inner->exceptions()) == 1) return only_leaf(inner->exceptions());
        } else {
            return e;
        }
    }
    return nullptr;
}

}  // namespace

std::vector<std::exception_ptr> exception_group::leaves() const {
    std::vector<std::exception_ptr> out;
    collect_leaves(*this, out);
    return out;
}

exception_group_split exception_group::split(const error_predicate& matches) const {
    auto halves = split_errors(errors_, matches);
    return {group_or_none(std::move(halves.matched)), group_or_none(std::move(halves.rest))};
}

std::optional<exception_group> exception_group::filter(const error_predicate& matches) const {
    return split(matches).matched;
}

void handle_each_if(const std::exception_ptr& error, const exception_group::error_predicate& matches,
                    const std::function<void(const std::exception_ptr&)>& handler) {
    if (!error) return;
    std::vector<std::exception_ptr> thrown;
    std::vector<std::exception_ptr> left;
    bool untouched = false;
    if (const exception_group* group = as_group(error)) {
        left = handle_errors(group->exceptions(), matches, handler, thrown);
        untouched = thrown.empty() && left.size() == group->exceptions().size() &&
                    std::equal(left.begin(), left.end(), group->exceptions().begin());
    } else if (matches(error)) {
        try {
            handler(error);
        } catch (...) {
            thrown.push_back(std::current_exception());
        }
    } else {
        untouched = true;
    }
    if (untouched) std::rethrow_exception(error);
    left.insert(left.end(), thrown.begin(), thrown.end());
    if (left.empty()) return;
    if (count_leaves(left) == 1) std::rethrow_exception(only_leaf(left));
    throw exception_group(std::move(left));
}

}  // namespace trellis
