// Lockstep streams for tests (Trio's lockstep_stream_one_way_pair and
// lockstep_stream_pair): streams with no buffer at all.
//
// Each send_all blocks until receive_some calls have taken every byte it
// sent, and wait_send_all_might_not_block returns only while a receiver is
// waiting. That makes them the "clogged" streams the checkers want, and a
// way to test flow control at its most extreme.
//
// Ownership: the caller owns each end (std::unique_ptr); the ends share
// their buffer, which lives until both are gone. Ends are not movable.
// Threads: one run's thread only.
#pragma once

#include <memory>
#include <utility>

#include "trellis/streams/stapled_stream.hpp"
#include "trellis/streams/stream.hpp"

namespace trellis::testing {

// A connected one-way lockstep pair. Not a checkpoint.
std::pair<std::unique_ptr<send_stream>, std::unique_ptr<receive_stream>> lockstep_stream_one_way_pair();

// Two one-way lockstep pairs stapled into two connected two-way streams.
// Not a checkpoint.
std::pair<stapled_stream, stapled_stream> lockstep_stream_pair();

}  // namespace trellis::testing
