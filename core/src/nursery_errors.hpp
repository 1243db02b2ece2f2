// Internal: how a nursery's errors become the one error it raises, and how
// a cancel scope takes its own cancellation back out of that error (Trio
// 0.22's MultiError rules).
#pragma once

#include <exception>
#include <vector>

#include "trellis/exception_group.hpp"

namespace trellis::detail {

class runner;

// A group made by a nursery that is not strict: where removing its
// cancellation leaves one error, that error comes out as itself.
class collapsible_group final : public exception_group {
public:
    using exception_group::exception_group;
};

// The error a nursery raises for `errors` (in the order they happened):
// null for none; a lone error as itself unless `strict`; otherwise a group
// holding every real error and, if there were any, one `cancelled`. Only
// cancellations: one `cancelled`, bare.
std::exception_ptr combine_errors(const runner& r, std::vector<std::exception_ptr> errors, bool strict);

// `error` without the cancellations in it (looking inside groups): null if
// nothing else is left. Sets `removed` if any was there.
std::exception_ptr without_cancellations(const runner& r, const std::exception_ptr& error, bool& removed);

}  // namespace trellis::detail
