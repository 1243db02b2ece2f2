// What the three guest benchmark programs (Qt, GLib, libevent) share: the
// run options for each I/O mode and their list of targets.
//
// Each program registers the same benchmarks under its host's name
// (`floor_<host>_io_wake_cycle`, `trellis_<host>_ping_pong`, ...), every
// trellis one twice: with the worker-thread I/O wait (the default; the
// plain name) and with host-native waiting (run_options::guest_io =
// host_native; suffix _native).
#pragma once

#include <string>
#include <vector>

#include <trellis/trellis.hpp>

#include "bench_support.hpp"

namespace bench {

// The options of a guest run in the given I/O mode.
inline trellis::run_options mode_options(trellis::guest_io_mode mode) {
    trellis::run_options options;
    options.guest_io = mode;
    return options;
}

// The targets of the guest benchmarks of `host` ("qt", "glib", "libevent").
inline std::vector<target> guest_targets(const std::string& host) {
    const std::string t = "trellis_" + host;
    return {
        target::ratio(host + " I/O wake cycle", "floor_" + host + "_io_wake_cycle", t + "_io_wake_cycle", 1.5),
        target::ratio(host + " socketpair ping-pong", "floor_raw_epoll_ping_pong", t + "_ping_pong", 2.2),
        target::ratio(host + " 100k checkpoints", "floor_run_100k_checkpoints", t + "_100k_checkpoints", 1.3,
                      target::clock::cpu),
        // Host-native waiting: the ping-pong target, and native against the
        // worker-thread wait (INFO).
        target::ratio(host + " socketpair ping-pong, native", "floor_raw_epoll_ping_pong", t + "_ping_pong_native",
                      1.3),
        target::comparison(host + " I/O wake cycle, native vs worker", t + "_io_wake_cycle",
                           t + "_io_wake_cycle_native"),
        target::comparison(host + " socketpair ping-pong, native vs worker", t + "_ping_pong", t + "_ping_pong_native"),
        target::comparison(host + " 100k checkpoints, native vs worker", t + "_100k_checkpoints",
                           t + "_100k_checkpoints_native", target::clock::cpu),
    };
}

}  // namespace bench
