// The g++ 12 coroutine corpus: each public trellis entry point that takes a
// callable, called with the callable written in the ways users write it.
//
// g++ before 13 destroys twice a temporary with a non-trivial destructor
// that is written inside a co_await expression and handed to a coroutine by
// value (the callable, or one of its arguments). Each shape below is one way
// of calling one entry point; `shapes <name>` runs it and exits 0 if every
// object was destroyed exactly once, non-zero otherwise (or ASan aborts
// first). check_shapes.py runs every shape and compares with the table in
// expected.txt.
//
// What each callable holds: a std::shared_ptr, a heap-allocated std::string
// and a move-only probe that counts its own destructions, so a double
// destruction shows as a crash, a sanitizer report or a wrong count, also
// without a sanitizer.
#include <trellis/trellis.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

using namespace std::chrono_literals;
using trellis::task;

namespace {

// Move-only; counts live instances and destructions of dead ones.
struct probe {
    static constexpr std::uint64_t alive_mark = 0xa11fea11fea11feULL;
    static constexpr std::uint64_t dead_mark = 0xdeadbeefdeadbeefULL;
    static inline std::atomic<long> live{0};
    static inline std::atomic<long> destroyed_twice{0};

    std::uint64_t mark = alive_mark;
    probe() { ++live; }
    probe(probe&&) noexcept { ++live; }
    probe(const probe&) = delete;
    probe& operator=(const probe&) = delete;
    probe& operator=(probe&&) = delete;
    ~probe() {
        if (mark != alive_mark) ++destroyed_twice;
        mark = dead_mark;
        --live;
    }
    int value() const { return mark == alive_mark ? 1 : 0; }
};

std::atomic<long> payloads_broken{0};

// What every shape captures or passes. When it goes, the shape's copies of
// its shared_ptr must all be gone, exactly once each.
struct payload {
    std::shared_ptr<int> p = std::make_shared<int>(1);
    std::string s = std::string(64, 's');  // past the small-string buffer: on the heap
    probe m;
    payload() = default;
    payload(const payload&) = delete;
    payload& operator=(const payload&) = delete;
    ~payload() {
        if (p.use_count() != 1 || s.size() != 64) ++payloads_broken;
    }
};

int use(const std::shared_ptr<int>& p, const std::string& s, const probe& m) {
    return *p + static_cast<int>(s.size()) + m.value();
}

// The callable-plus-arguments form: a plain function and its arguments.
task<> async_fn(std::shared_ptr<int> p, std::string s, probe m) {
    co_await trellis::checkpoint();
    use(p, s, m);
}
task<> startable_fn(std::shared_ptr<int> p, std::string s, probe m, trellis::task_status<> status) {
    co_await trellis::checkpoint();
    status.started();
    use(p, s, m);
}

// ---- Shapes. Each is a coroutine run as the main task of a run. ----
//
// ".inline": the callable is a temporary written inside the co_await
// expression (the shape g++ 12 miscompiles). ".outside": the same temporary
// in a statement without co_await, the awaitable awaited afterwards.
// ".named": a named lambda, passed by copy or moved. ".ref": the lambda
// captures by reference. ".args": a plain function plus its arguments.

task<> move_on_after_inline() {
    payload d;
    co_await trellis::move_on_after(1s, [p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

task<> move_on_after_outside() {
    payload d;
    auto t = trellis::move_on_after(1s, [p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
    co_await std::move(t);
}

task<> move_on_after_named_copy() {
    payload d;
    auto body = [p = d.p, s = d.s]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, probe());
    };
    co_await trellis::move_on_after(1s, body);
}

task<> move_on_after_named_move() {
    payload d;
    auto body = [p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    };
    co_await trellis::move_on_after(1s, std::move(body));
}

task<> move_on_after_ref() {
    payload d;
    co_await trellis::move_on_after(1s, [&d]() -> task<> {
        co_await trellis::checkpoint();
        use(d.p, d.s, d.m);
    });
}

task<> move_on_after_args() {
    payload d;
    co_await trellis::move_on_after(1s, async_fn, d.p, d.s, probe());
}

task<> move_on_after_args_named() {
    payload d;
    co_await trellis::move_on_after(1s, async_fn, d.p, d.s, std::move(d.m));
}

task<> move_on_at_inline() {
    payload d;
    co_await trellis::move_on_at(trellis::current_time() + 1s, [p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

task<> fail_after_inline() {
    payload d;
    co_await trellis::fail_after(1s, [p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

task<> fail_after_outside() {
    payload d;
    auto t = trellis::fail_after(1s, [p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
    co_await std::move(t);
}

task<> fail_at_inline() {
    payload d;
    co_await trellis::fail_at(trellis::current_time() + 1s, [p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

task<> cancel_scope_run_inline() {
    payload d;
    trellis::cancel_scope scope;
    co_await scope.run([p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

task<> cancel_scope_run_outside() {
    payload d;
    trellis::cancel_scope scope;
    auto t = scope.run([p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
    co_await std::move(t);
}

task<> open_nursery_inline() {
    payload d;
    co_await trellis::open_nursery([p = d.p, s = d.s, m = probe()](trellis::nursery&) -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

task<> open_nursery_outside() {
    payload d;
    auto t = trellis::open_nursery([p = d.p, s = d.s, m = probe()](trellis::nursery&) -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
    co_await std::move(t);
}

task<> open_nursery_named_move() {
    payload d;
    auto body = [p = d.p, s = d.s, m = probe()](trellis::nursery&) -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    };
    co_await trellis::open_nursery(std::move(body));
}

task<> start_soon_inline_in_body() {
    // start_soon is not awaited: the temporary is in a plain statement.
    payload d;
    auto body = [&d](trellis::nursery& n) -> task<> {
        n.start_soon([p = d.p, s = d.s, m = probe()]() -> task<> {
            co_await trellis::checkpoint();
            use(p, s, m);
        });
        co_return;
    };
    co_await trellis::open_nursery(body);
}

task<> start_soon_args() {
    payload d;
    auto body = [&d](trellis::nursery& n) -> task<> {
        n.start_soon(async_fn, d.p, d.s, probe());
        co_return;
    };
    co_await trellis::open_nursery(body);
}

task<> start_args() {
    payload d;
    auto body = [&d](trellis::nursery& n) -> task<> { co_await n.start(startable_fn, d.p, d.s, probe()); };
    co_await trellis::open_nursery(body);
}

task<> start_inline() {
    payload d;
    auto body = [&d](trellis::nursery& n) -> task<> {
        co_await n.start([p = d.p, s = d.s, m = probe()](trellis::task_status<> status) -> task<> {
            co_await trellis::checkpoint();
            status.started();
            use(p, s, m);
        });
    };
    co_await trellis::open_nursery(body);
}

task<> start_outside() {
    payload d;
    auto body = [&d](trellis::nursery& n) -> task<> {
        auto t = n.start([p = d.p, s = d.s, m = probe()](trellis::task_status<> status) -> task<> {
            co_await trellis::checkpoint();
            status.started();
            use(p, s, m);
        });
        co_await std::move(t);
    };
    co_await trellis::open_nursery(body);
}

task<> finally_inline() {
    payload d;
    co_await trellis::finally(
        [p = d.p, s = d.s, m = probe()]() -> task<> {
            co_await trellis::checkpoint();
            use(p, s, m);
        },
        [p = d.p, s = d.s]() -> task<> {
            co_await trellis::checkpoint();
            use(p, s, probe());
        });
}

task<> finally_outside() {
    payload d;
    auto t = trellis::finally(
        [p = d.p, s = d.s, m = probe()]() -> task<> {
            co_await trellis::checkpoint();
            use(p, s, m);
        },
        [p = d.p, s = d.s]() -> task<> {
            co_await trellis::checkpoint();
            use(p, s, probe());
        });
    co_await std::move(t);
}

struct closeable {
    task<> aclose() { co_await trellis::checkpoint(); }
};

task<> closing_inline() {
    payload d;
    closeable r;
    co_await trellis::closing(r, [p = d.p, s = d.s, m = probe()](closeable&) -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

task<> closing_outside() {
    payload d;
    closeable r;
    auto t = trellis::closing(r, [p = d.p, s = d.s, m = probe()](closeable&) -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
    co_await std::move(t);
}

task<> to_thread_inline() {
    payload d;
    co_await trellis::to_thread::run_sync([p = d.p, s = d.s, m = probe()] { return use(p, s, m); });
}

task<> to_thread_outside() {
    payload d;
    auto t = trellis::to_thread::run_sync([p = d.p, s = d.s, m = probe()] { return use(p, s, m); });
    co_await std::move(t);
}

task<> to_thread_named_move() {
    payload d;
    auto work = [p = d.p, s = d.s, m = probe()] { return use(p, s, m); };
    co_await trellis::to_thread::run_sync(std::move(work));
}

task<> to_thread_ref() {
    payload d;
    co_await trellis::to_thread::run_sync([&d] { return use(d.p, d.s, d.m); });
}

int sync_fn(std::shared_ptr<int> p, std::string s, probe m) { return use(p, s, m); }

task<> to_thread_args() {
    payload d;
    co_await trellis::to_thread::run_sync(sync_fn, d.p, d.s, probe());
}

// from_thread calls are made on a worker thread, in plain (not coroutine)
// code: the temporary is never inside a co_await expression.
void call_from_thread_run_sync(std::shared_ptr<int> keep) {
    std::string s(64, 't');
    trellis::from_thread::run_sync([p = keep, s, m = probe()] { return use(p, s, m); });
}
void call_from_thread_run(std::shared_ptr<int> keep) {
    std::string s(64, 't');
    trellis::from_thread::run([p = keep, s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

task<> from_thread_run_sync_outside() {
    payload d;
    co_await trellis::to_thread::run_sync(call_from_thread_run_sync, d.p);
}

task<> from_thread_run_outside() {
    payload d;
    co_await trellis::to_thread::run_sync(call_from_thread_run, d.p);
}

task<> token_run_sync_soon_outside() {
    // run_sync_soon takes a std::function, which must be copyable: no probe.
    payload d;
    trellis::event done;
    trellis::current_token().run_sync_soon([p = d.p, s = d.s, &done] {
        use(p, s, probe());
        done.set();
    });
    co_await done.wait();
}

task<> spawn_system_task_outside() {
    payload d;
    trellis::event done;
    trellis::lowlevel::spawn_system_task([p = d.p, s = d.s, m = probe(), &done]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
        done.set();
    });
    co_await done.wait();
}

// Not trellis-specific: an aggregate argument built inside the co_await
// expression goes wrong the same way a lambda does...
struct aggregate {
    std::shared_ptr<int> p;
    std::string s;
    probe m;
};
task<> take_aggregate(aggregate a) {
    co_await trellis::checkpoint();
    use(a.p, a.s, a.m);
}
task<> aggregate_argument_inline() {
    payload d;
    co_await trellis::move_on_after(1s, take_aggregate, aggregate{d.p, d.s, probe()});
}

// ...while a callable with a user-provided constructor, built the same
// place, is fine.
class constructed_callable {
public:
    constructed_callable(std::shared_ptr<int> p, std::string s) : p_(std::move(p)), s_(std::move(s)) {}
    task<> operator()() const {
        co_await trellis::checkpoint();
        use(p_, s_, m_);
    }

private:
    std::shared_ptr<int> p_;
    std::string s_;
    probe m_;
};
task<> constructed_callable_inline() {
    payload d;
    co_await trellis::move_on_after(1s, constructed_callable(d.p, d.s));
}

// trellis::run from main(): no coroutine around it at all.
void run_inline() {
    payload d;
    trellis::run([p = d.p, s = d.s, m = probe()]() -> task<> {
        co_await trellis::checkpoint();
        use(p, s, m);
    });
}

template <task<> (*Shape)()>
void in_run() {
    trellis::run(Shape);
}

}  // namespace

int main(int argc, char** argv) {
    const std::map<std::string, std::function<void()>> shapes = {
        {"run.inline_outside_co_await", run_inline},
        {"move_on_after.inline", in_run<move_on_after_inline>},
        {"move_on_after.outside", in_run<move_on_after_outside>},
        {"move_on_after.named_copy", in_run<move_on_after_named_copy>},
        {"move_on_after.named_move", in_run<move_on_after_named_move>},
        {"move_on_after.ref", in_run<move_on_after_ref>},
        {"move_on_after.args", in_run<move_on_after_args>},
        {"move_on_after.args_named", in_run<move_on_after_args_named>},
        {"move_on_at.inline", in_run<move_on_at_inline>},
        {"fail_after.inline", in_run<fail_after_inline>},
        {"fail_after.outside", in_run<fail_after_outside>},
        {"fail_at.inline", in_run<fail_at_inline>},
        {"cancel_scope_run.inline", in_run<cancel_scope_run_inline>},
        {"cancel_scope_run.outside", in_run<cancel_scope_run_outside>},
        {"open_nursery.inline", in_run<open_nursery_inline>},
        {"open_nursery.outside", in_run<open_nursery_outside>},
        {"open_nursery.named_move", in_run<open_nursery_named_move>},
        {"start_soon.inline_outside_co_await", in_run<start_soon_inline_in_body>},
        {"start_soon.args", in_run<start_soon_args>},
        {"start.args", in_run<start_args>},
        {"start.inline", in_run<start_inline>},
        {"start.outside", in_run<start_outside>},
        {"finally.inline", in_run<finally_inline>},
        {"finally.outside", in_run<finally_outside>},
        {"closing.inline", in_run<closing_inline>},
        {"closing.outside", in_run<closing_outside>},
        {"to_thread.inline", in_run<to_thread_inline>},
        {"to_thread.outside", in_run<to_thread_outside>},
        {"to_thread.named_move", in_run<to_thread_named_move>},
        {"to_thread.ref", in_run<to_thread_ref>},
        {"to_thread.args", in_run<to_thread_args>},
        {"from_thread_run_sync.outside", in_run<from_thread_run_sync_outside>},
        {"from_thread_run.outside", in_run<from_thread_run_outside>},
        {"token_run_sync_soon.outside", in_run<token_run_sync_soon_outside>},
        {"spawn_system_task.outside", in_run<spawn_system_task_outside>},
        {"aggregate_argument.inline", in_run<aggregate_argument_inline>},
        {"constructed_callable.inline", in_run<constructed_callable_inline>},
    };
    if (argc != 2 || !shapes.count(argv[1])) {
        for (const auto& entry : shapes) std::printf("%s\n", entry.first.c_str());
        return argc == 2 ? 2 : 0;
    }
    const std::string name = argv[1];
    // to_thread::run_sync releases its callable before it returns, so no
    // shape needs to wait for a worker to let go.
    shapes.at(name)();
    if (probe::live != 0 || probe::destroyed_twice != 0 || payloads_broken != 0) {
        std::fprintf(stderr, "%s: probes alive %ld, probes destroyed twice %ld, shared_ptr counts wrong %ld\n",
                     argv[1], probe::live.load(), probe::destroyed_twice.load(), payloads_broken.load());
        return 1;
    }
    return 0;
}
