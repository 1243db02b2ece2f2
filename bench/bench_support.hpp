// Shared helpers for trellis's benchmark programs.
//
// Every program measures trellis against a floor (the same work done with
// no trellis: a bare coroutine, a raw epoll loop) in the same process, and
// reports the ratio. Machines running these are noisy and shared, so
// absolute nanoseconds mean little; a ratio of medians taken from
// interleaved repetitions holds up much better.
//
// bench::run_main() runs the registered benchmarks with defaults suited to
// that (several repetitions, randomly interleaved; any command-line flag
// overrides them), records the median of each benchmark, and ends with one
// summary line per target:
//
//   checkpoint: floor 11.9 ns, trellis 27.0 ns, ratio = 2.27 (target <= 2.5) PASS
//
// Targets where higher is better (throughput, requests per second) say
// "target >= x"; informational comparisons end with INFO instead.
//
// bench/run_all.sh collects these lines from every program into a table.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// ---- A bare coroutine, the floor of everything coroutine-shaped. ----

// A minimal lazy coroutine: starts suspended, stays suspended at the end,
// and is destroyed by its owner. No scheduler, no error handling beyond
// terminate, no result.
struct bare_coroutine {
    struct promise_type {
        bare_coroutine get_return_object() noexcept {
            return bare_coroutine{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };

    explicit bare_coroutine(std::coroutine_handle<promise_type> h) noexcept : handle(h) {}
    bare_coroutine(bare_coroutine&& other) noexcept : handle(std::exchange(other.handle, {})) {}
    bare_coroutine& operator=(bare_coroutine&&) = delete;
    ~bare_coroutine() {
        if (handle) handle.destroy();
    }

    std::coroutine_handle<promise_type> handle;
};

// A hand-made scheduler: a run queue of coroutine handles, drained in
// batches the way trellis's runner drains its own (what becomes runnable
// during a batch runs in the next one).
class bare_run_queue {
public:
    void push(std::coroutine_handle<> h) { ready_.push_back(h); }
    void run() {
        while (!ready_.empty()) {
            batch_.swap(ready_);
            for (std::coroutine_handle<> h : batch_) h.resume();
            batch_.clear();
        }
    }

    // co_await yield_to(q): puts the awaiting coroutine at the back of q.
    struct yield_awaiter {
        bare_run_queue& queue;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> self) { queue.push(self); }
        void await_resume() const noexcept {}
    };
    yield_awaiter yield() noexcept { return {*this}; }

private:
    std::vector<std::coroutine_handle<>> ready_;
    std::vector<std::coroutine_handle<>> batch_;
};

// ---- Memory. ----

// A "Vm..." field of /proc/self/status in bytes (VmRSS: resident set now,
// VmHWM: its peak); -1 if unreadable.
inline long proc_status_bytes(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == std::string(field) + ":") {
            long kib = -1;
            status >> kib;
            return kib < 0 ? -1 : kib * 1024;
        }
        status.ignore(4096, '\n');
    }
    return -1;
}

// ---- Targets and the summary. ----

// What a benchmark program promises, checked against the medians.
struct target {
    enum class kind {
        ratio,          // median time of `subject` / median time of `floor`
        time_per,       // median time of `subject` / `divisor`, in ns
        counter,        // median of counter `counter_name` of `subject`
        speed_ratio,    // median time of `floor` / median time of `subject`
        counter_ratio,  // median counter of `subject` / median counter of `floor`
    };
    // Whether the value must stay at or below `limit` (times, bytes) or
    // reach at least `limit` (throughputs, rates). speed_ratio and
    // counter_ratio are "higher is better": both benchmarks do the same
    // work per iteration (speed_ratio) or report a rate (counter_ratio).
    enum class goal { at_most, at_least };
    // Which time a ratio compares. CPU time suits single-threaded,
    // CPU-bound loops on a shared machine: time the process spends
    // preempted by other work is not charged to it. Anything that waits
    // (for another thread, for the kernel) needs wall-clock time.
    enum class clock { real, cpu };
    kind what;
    std::string label;
    std::string subject;
    std::string floor;         // the ratios only
    double divisor = 1;        // time_per only
    std::string counter_name;  // counter and counter_ratio only
    double limit;              // pass when the value is <= limit (>= for goal::at_least)
    std::string unit;          // how to print the value (time_per, counter)
    clock time = clock::real;  // ratio, speed_ratio and time_per
    goal direction = goal::at_most;
    // An informational comparison: printed with INFO instead of PASS or
    // MISS (a figure worth showing next to the targets, not a promise).
    bool info = false;

    static target ratio(std::string label, std::string floor, std::string subject, double limit,
                        clock time = clock::real) {
        return {kind::ratio, std::move(label), std::move(subject), std::move(floor), 1, {}, limit, {}, time,
                goal::at_most, false};
    }
    static target time_per(std::string label, std::string subject, double divisor, double limit_ns) {
        return {kind::time_per, std::move(label), std::move(subject), {}, divisor, {}, limit_ns, "ns", clock::real,
                goal::at_most, false};
    }
    static target counter(std::string label, std::string subject, std::string counter_name, double limit,
                          std::string unit) {
        return {kind::counter, std::move(label), std::move(subject), {}, 1, std::move(counter_name), limit,
                std::move(unit), clock::real, goal::at_most, false};
    }
    // The subject's throughput relative to the floor's, both moving the
    // same amount of data per iteration: passes when >= limit.
    static target speed_ratio(std::string label, std::string floor, std::string subject, double limit,
                              clock time = clock::real) {
        return {kind::speed_ratio, std::move(label), std::move(subject), std::move(floor), 1, {}, limit, {}, time,
                goal::at_least, false};
    }
    // A rate counter (requests per second, ...) of the subject relative to
    // the floor's: passes when >= limit.
    static target counter_ratio(std::string label, std::string floor, std::string subject, std::string counter_name,
                                double limit, std::string unit) {
        return {kind::counter_ratio, std::move(label), std::move(subject), std::move(floor), 1,
                std::move(counter_name), limit, std::move(unit), clock::real, goal::at_least,
                false};
    }
    // Like ratio, but no target: the line ends with INFO.
    static target comparison(std::string label, std::string reference, std::string subject,
                             clock time = clock::real) {
        target t = ratio(std::move(label), std::move(reference), std::move(subject), 0, time);
        t.info = true;
        return t;
    }
    // Like counter_ratio, but no target: the line ends with INFO.
    static target counter_comparison(std::string label, std::string reference, std::string subject,
                                     std::string counter_name, std::string unit) {
        target t = counter_ratio(std::move(label), std::move(reference), std::move(subject), std::move(counter_name),
                                 0, std::move(unit));
        t.info = true;
        return t;
    }
};

// Forwards everything to the usual display reporter and remembers, per
// benchmark, the time per iteration (ns) and counters of each repetition.
class recording_reporter : public benchmark::BenchmarkReporter {
public:
    recording_reporter() : inner_(benchmark::CreateDefaultDisplayReporter()) {}

    bool ReportContext(const Context& context) override { return inner_->ReportContext(context); }
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.error_occurred) continue;
            sample s;
            const double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
            s.ns = run.GetAdjustedRealTime() * to_ns;
            s.cpu_ns = run.GetAdjustedCPUTime() * to_ns;
            for (const auto& [name, counter] : run.counters) s.counters[name] = counter.value;
            const std::string name = run.run_name.function_name;
            if (run.run_type == Run::RT_Aggregate) {
                if (run.aggregate_name == "median") medians_[name] = std::move(s);
            } else {
                samples_[name].push_back(std::move(s));
            }
        }
        inner_->ReportRuns(runs);
    }
    void Finalize() override { inner_->Finalize(); }

    // The median of the benchmark's repetitions: Google Benchmark's own
    // when it computed one, else ours. False if the benchmark did not run.
    bool median_ns(const std::string& name, target::clock time, double& out) const {
        if (time == target::clock::cpu) return median_of(name, [](const sample& s) { return s.cpu_ns; }, out);
        return median_of(name, [](const sample& s) { return s.ns; }, out);
    }
    bool median_counter(const std::string& name, const std::string& counter, double& out) const {
        return median_of(
            name,
            [&counter](const sample& s) {
                auto it = s.counters.find(counter);
                return it == s.counters.end() ? -1.0 : it->second;
            },
            out);
    }

private:
    struct sample {
        double ns = 0;
        double cpu_ns = 0;
        std::map<std::string, double> counters;
    };
    template <class Get>
    bool median_of(const std::string& name, Get get, double& out) const {
        if (auto it = medians_.find(name); it != medians_.end()) {
            out = get(it->second);
            return out >= 0;
        }
        auto it = samples_.find(name);
        if (it == samples_.end() || it->second.empty()) return false;
        std::vector<double> values;
        for (const sample& s : it->second) values.push_back(get(s));
        std::sort(values.begin(), values.end());
        const std::size_t n = values.size();
        out = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
        return out >= 0;
    }

    std::unique_ptr<benchmark::BenchmarkReporter> inner_;
    std::map<std::string, std::vector<sample>> samples_;
    std::map<std::string, sample> medians_;
};

// Prints one summary line per target; returns how many were missed.
inline int print_summary(const recording_reporter& rec, const std::vector<target>& targets) {
    int missed = 0;
    std::printf("\n");
    for (const target& t : targets) {
        double value = 0;
        char detail[512];
        bool ok = false;
        switch (t.what) {
            case target::kind::ratio: {
                double floor_ns = 0, subject_ns = 0;
                ok = rec.median_ns(t.floor, t.time, floor_ns) && rec.median_ns(t.subject, t.time, subject_ns) &&
                     floor_ns > 0;
                if (ok) {
                    value = subject_ns / floor_ns;
                    std::snprintf(detail, sizeof detail,
                                  "floor %.1f ns, trellis %.1f ns (%s time), ratio = %.2f (target <= %g)", floor_ns,
                                  subject_ns, t.time == target::clock::cpu ? "cpu" : "real", value, t.limit);
                }
                break;
            }
            case target::kind::time_per: {
                double ns = 0;
                ok = rec.median_ns(t.subject, t.time, ns);
                if (ok) {
                    value = ns / t.divisor;
                    std::snprintf(detail, sizeof detail, "%.1f ns per item (target <= %g ns)", value, t.limit);
                }
                break;
            }
            case target::kind::counter: {
                ok = rec.median_counter(t.subject, t.counter_name, value);
                if (ok)
                    std::snprintf(detail, sizeof detail, "%s = %.1f %s (target <= %g)", t.counter_name.c_str(), value,
                                  t.unit.c_str(), t.limit);
                break;
            }
            case target::kind::speed_ratio: {
                double floor_ns = 0, subject_ns = 0;
                ok = rec.median_ns(t.floor, t.time, floor_ns) && rec.median_ns(t.subject, t.time, subject_ns) &&
                     subject_ns > 0;
                if (ok) {
                    value = floor_ns / subject_ns;
                    std::snprintf(detail, sizeof detail,
                                  "floor %.1f ms, trellis %.1f ms (%s time), throughput ratio = %.2f (target >= %g)",
                                  floor_ns / 1e6, subject_ns / 1e6, t.time == target::clock::cpu ? "cpu" : "real",
                                  value, t.limit);
                }
                break;
            }
            case target::kind::counter_ratio: {
                double floor_value = 0, subject_value = 0;
                ok = rec.median_counter(t.floor, t.counter_name, floor_value) &&
                     rec.median_counter(t.subject, t.counter_name, subject_value) && floor_value > 0;
                if (ok) {
                    value = subject_value / floor_value;
                    const int used = std::snprintf(detail, sizeof detail, "%s %.0f %s, %s %.0f %s, ratio = %.2f",
                                                   t.floor.c_str(), floor_value, t.unit.c_str(), t.subject.c_str(),
                                                   subject_value, t.unit.c_str(), value);
                    if (!t.info && used > 0 && static_cast<std::size_t>(used) < sizeof detail)
                        std::snprintf(detail + used, sizeof detail - static_cast<std::size_t>(used), " (target >= %g)",
                                      t.limit);
                }
                break;
            }
        }
        if (!ok) {
            std::printf("%s: not measured (filtered out or failed)\n", t.label.c_str());
            continue;
        }
        if (t.info) {
            std::printf("%s: %s INFO\n", t.label.c_str(), detail);
            continue;
        }
        const bool pass = t.direction == target::goal::at_least ? value >= t.limit : value <= t.limit;
        if (!pass) ++missed;
        std::printf("%s: %s %s\n", t.label.c_str(), detail, pass ? "PASS" : "MISS");
    }
    std::fflush(stdout);
    return missed;
}

// Defaults for ping-pong programs: more repetitions than usual, since
// wake-up latencies on a shared machine vary a lot between repetitions.
inline std::vector<std::string> latency_defaults() {
    return {"--benchmark_repetitions=15", "--benchmark_enable_random_interleaving=true",
            "--benchmark_display_aggregates_only=true"};
}

// main() of every benchmark program. `defaults` are flags applied before
// the command line's (so the command line wins). Exits 0 even when a
// target is missed: the summary says so, and noisy machines should not
// fail builds.
inline int run_main(int argc, char** argv, const std::vector<target>& targets,
                    std::vector<std::string> defaults = {"--benchmark_repetitions=7",
                                                         "--benchmark_enable_random_interleaving=true",
                                                         "--benchmark_display_aggregates_only=true"}) {
    std::vector<char*> args{argv[0]};
    for (std::string& d : defaults) args.push_back(d.data());
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    int n = static_cast<int>(args.size());
    args.push_back(nullptr);
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
    recording_reporter rec;
    benchmark::RunSpecifiedBenchmarks(&rec);
    benchmark::Shutdown();
    print_summary(rec, targets);
    return 0;
}

}  // namespace bench
