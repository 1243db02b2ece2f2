#include "nursery_errors.hpp"

#include "runner.hpp"

namespace trellis::detail {

std::exception_ptr combine_errors(const runner& r, std::vector<std::exception_ptr> errors, bool strict) {
    if (errors.empty()) return nullptr;
    std::vector<std::exception_ptr> kept;
    std::exception_ptr first_cancel;
    for (auto& e : errors) {
        if (!r.is_cancelled(e)) {
            kept.push_back(std::move(e));
        } else if (!first_cancel) {
            // One cancellation stands for all of them: which scope catches
            // it does not depend on how many tasks met it.
            first_cancel = e;
            kept.push_back(std::move(e));
        }
    }
    if (kept.size() == 1 && (!strict || first_cancel)) return kept.front();
    if (strict) return std::make_exception_ptr(exception_group(std::move(kept)));
    return std::make_exception_ptr(collapsible_group(std::move(kept)));
}

namespace {
// Only what can hold a cancellation inside needs a look: a group.
const exception_group* as_group(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const exception_group& g) {
        return &g;
    } catch (...) {
        return nullptr;
    }
}
}  // namespace

std::exception_ptr without_cancellations(const runner& r, const std::exception_ptr& error, bool& removed) {
    if (!error) return nullptr;
    if (r.is_cancelled(error)) {
        removed = true;
        return nullptr;
    }
    // The exception object lives as long as `error` does, so the pointer
    // from the catch stays valid after it.
    const exception_group* group = as_group(error);
    if (!group) return error;
    std::vector<std::exception_ptr> rest;
    bool changed = false;
    for (const auto& inner : group->exceptions()) {
        std::exception_ptr kept = without_cancellations(r, inner, removed);
        if (kept != inner) changed = true;
        if (kept) rest.push_back(std::move(kept));
    }
    if (!changed) return error;
    if (rest.empty()) return nullptr;
    const bool collapsible = dynamic_cast<const collapsible_group*>(group) != nullptr;
    if (collapsible && rest.size() == 1) return rest.front();
    if (collapsible) return std::make_exception_ptr(collapsible_group(std::move(rest)));
    return std::make_exception_ptr(exception_group(std::move(rest)));
}

}  // namespace trellis::detail
