// Conformance checkers for stream implementations (Trio's
// check_one_way_stream, check_two_way_stream, check_half_closeable_stream).
//
//   co_await trellis::testing::check_two_way_stream(
//       []() -> trellis::task<trellis::testing::two_way_pair> { ... make a connected pair ... },
//       nullptr);
//
// Each checker creates fresh pairs with the maker, exercises the stream
// contract of trellis/streams/stream.hpp on them (data arrives in order,
// every operation is a checkpoint, busy_resource_error on concurrent use,
// closed_resource_error after close, broken_resource_error once the peer is
// gone, close wakes blocked tasks, a cancelled aclose still closes, ...)
// and closes them. They use no test framework: a failed check throws
// testing::stream_check_failed naming the check; anything else the stream
// throws unexpectedly comes out as itself.
//
// The optional clogged maker returns a pair in which send_all and
// wait_send_all_might_not_block block until the receiver reads (lockstep
// streams are like that; a socket pair with full buffers too); it enables
// the checks of blocking sends.
//
// "Is a checkpoint" is checked as testing::assert_checkpoints checks it: the
// calling task both yielded to the scheduler and checked for cancellation
// at least once during the operation (counted per task, so other tasks'
// work does not count, and no instrument is installed).
//
// Threads: call them in a task of a run; they take a few hundred
// milliseconds of real time at most (the two-way check moves 1 MiB each way
// in random chunks).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>

#include "trellis/streams/stream.hpp"
#include "trellis/task.hpp"

namespace trellis::testing {

// A failed conformance check; what() names the checker and the check.
class stream_check_failed : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// What the makers return: connected ends, owned by the checker, which
// closes them when done. For the two-way and half-closeable checks, data
// sent on `first` arrives on `second` and the other way round.
using one_way_pair = std::pair<std::unique_ptr<send_stream>, std::unique_ptr<receive_stream>>;
using two_way_pair = std::pair<std::unique_ptr<stream>, std::unique_ptr<stream>>;
using half_closeable_pair = std::pair<std::unique_ptr<half_closeable_stream>, std::unique_ptr<half_closeable_stream>>;

// Checks a one-way stream. `clogged_maker` may be empty. A checkpoint.
// Throws stream_check_failed on a failed check, run_error outside a task.
task<> check_one_way_stream(std::function<task<one_way_pair>()> maker,
                            std::function<task<one_way_pair>()> clogged_maker = {});

// Checks a two-way stream: the one-way checks in both directions, then both
// directions at once. A superset of check_one_way_stream.
task<> check_two_way_stream(std::function<task<two_way_pair>()> maker,
                            std::function<task<two_way_pair>()> clogged_maker = {});

// Checks a half-closeable stream: the two-way checks, then send_eof. A
// superset of check_two_way_stream.
task<> check_half_closeable_stream(std::function<task<half_closeable_pair>()> maker,
                                   std::function<task<half_closeable_pair>()> clogged_maker = {});

}  // namespace trellis::testing
